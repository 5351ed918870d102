"""Runs the real tshark with the freshly built spicemig plugin and returns
what it decoded, for the tests to assert on."""

import atexit
import collections
import decimal
import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN = os.environ.get("SPICEMIG_PLUGIN", os.path.join(HERE, "..", "build", "spicemig.so"))
CAPTURES = os.environ.get("SPICEMIG_CAPTURES", os.path.join(HERE, "..", "testcaptures"))


# Every expert info spicemig raises about a migrate-data body or a control message.
BODY_EXPERTS = [
    "spicemig.unknown_magic", "spicemig.unsupported_version", "spicemig.truncated",
    "spicemig.pointer_out_of_bounds", "spicemig.pointer_into_fixed_part",
    "spicemig.surface_id_out_of_range", "spicemig.trailing_data",
    "spicemig.main.chunk_header_size_too_large", "spicemig.main.partial_header_too_long",
    "spicemig.chardev.unsupported_version", "spicemig.magic_channel_mismatch",
    "spicemig.display.surfaces_layout_ambiguous", "spicemig.migrate.unknown_flags",
    "spicemig.dst_info.string_not_terminated",
]
# ... and about the stream.
STREAM_EXPERTS = [
    "spicemig.mid_connection", "spicemig.unsynced", "spicemig.link.bad_size", "spicemig.sasl",
    "spicemig.builtin_lost", "spicemig.not_desegmented", "spicemig.link.bad_caps", "spicemig.msg.bad_size",
]
# ... and about a migration across connections (the Chat-level spicemig.milestone aside).
ANALYSIS_EXPERTS = [
    "spicemig.forward_modified", "spicemig.forward_missing", "spicemig.forward_unmatched",
    "spicemig.display_init_mismatch", "spicemig.version_mismatch", "spicemig.body_without_ack",
    "spicemig.body_never_sent",
]
ANY_EXPERT = " || ".join(BODY_EXPERTS + STREAM_EXPERTS + ANALYSIS_EXPERTS)
# Separates the occurrences of a field; no decoded text contains it.
AGGREGATOR = "\x1e"


def capture(name):
    path = os.path.join(CAPTURES, name)
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    return path


def tshark(*args, env=None):
    """tshark's stdout; fails the test on a non-zero exit or anything on stderr.
    env: variables added to tshark's environment."""
    proc = subprocess.run([os.path.join(HERE, "tshark-with-plugin"), PLUGIN, *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300,
                          env=dict(os.environ, **env) if env else None)
    if proc.returncode != 0 or proc.stderr.strip():
        raise AssertionError("tshark %s failed (%d): %s" % (" ".join(args), proc.returncode, proc.stderr))
    return proc.stdout


BUILTIN_ENV = {"HOME": "/nonexistent", "PATH": "/usr/bin:/bin"}


def builtin_only(capture_name, *args):
    """tshark's stdout without the plugin: the built-in dissectors alone (no
    personal plugins in a HOME that does not exist, a global install disabled)."""
    proc = subprocess.run(["tshark", *disable_global_spicemig(), "-r", capture(capture_name), *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300,
                          env=BUILTIN_ENV)
    if proc.returncode != 0:
        raise AssertionError("tshark failed: " + proc.stderr)
    return proc.stdout


# The differences between the tshark versions the suite runs on (Wireshark 4.0,
# 4.4, 4.6), turned into one form here; the tests assert on that form.

@functools.lru_cache(maxsize=None)
def disable_global_spicemig():
    """The options that keep a globally installed spicemig out of a run. In
    4.4 and 4.6 `--disable-protocol spicemig` is an error (exit 1, "No such
    protocol") when no spicemig is loaded; 4.0 ignores an unknown name."""
    protocols = subprocess.run(["tshark", "-G", "protocols"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, timeout=300, env=BUILTIN_ENV,
                               check=True).stdout
    if any(line.split("\t")[2:3] == ["spicemig"] for line in protocols.splitlines()):
        return ("--disable-protocol", "spicemig")
    return ()


@functools.lru_cache(maxsize=None)
def boolean_fields():
    """Names of every FT_BOOLEAN field of this tshark, with the plugin."""
    return frozenset(cells[2] for cells in (line.split("\t") for line in tshark("-G", "fields").splitlines())
                     if cells[0] == "F" and cells[3] == "FT_BOOLEAN")


# -T fields prints a boolean as 1/0 in 4.0 and as True/False in 4.4 and 4.6.
BOOLEAN_TEXT = {"True": "1", "False": "0"}


def normalise_fields(names, rows):
    """-T fields rows (one list of occurrences per field) with every boolean
    as 1 or 0."""
    booleans = [name in boolean_fields() for name in names]
    return [[[BOOLEAN_TEXT.get(value, value) for value in cell] if boolean else cell
             for cell, boolean in zip(row, booleans)] for row in rows]


def protocol_hierarchy(text):
    """(depth, protocol) of every line of `-z io,phs` output, tshark's own
    bookkeeping left out: 4.6 adds a `frame` root, 4.0 and 4.4 list the
    reassembly pseudo-protocols (`tcp.segments`) that 4.6 does not."""
    lines = text.split("Filter: \n\n", 1)[1].split("\n===")[0].splitlines()
    entries = [((len(line) - len(line.lstrip())) // 2, line.split()[0]) for line in lines]
    if entries and entries[0][1] == "frame":
        entries = [(depth - 1, name) for depth, name in entries[1:]]
    return [(depth, name) for depth, name in entries if not name.endswith(".segments")]


def heuristic_decodes(table):
    """(protocol, heuristic enabled) for each heuristic of TABLE, in the order
    tshark tries them. -G heuristic-decodes prints "table protocol enabled"
    in 4.0; 4.4 and 4.6 add "enabled-by-default heuristic-name description"."""
    entries = []
    for line in tshark("-G", "heuristic-decodes").splitlines():
        cells = line.split("\t")
        if cells[0] == table:
            entries.append((cells[1], cells[2] == "T"))
    return entries


def key_log_options(key_log_name):
    """tshark options that decrypt TLS with a key log of testcaptures/. The
    unprivileged tshark (see tshark-with-plugin) reads a world-readable copy."""
    directory = tempfile.mkdtemp(prefix="spicemig-keys-")
    atexit.register(shutil.rmtree, directory, True)
    os.chmod(directory, 0o755)
    path = os.path.join(directory, os.path.basename(key_log_name))
    shutil.copyfile(capture(key_log_name), path)
    os.chmod(path, 0o644)
    return ("-o", "tls.keylog_file:" + path)


def fields_args(path, display_filter, names, two_pass=True, key_log=None, extra=()):
    """tshark's arguments for fields_rows(). key_log names a TLS key log in
    testcaptures/; extra: more tshark options."""
    args = ["-r", path, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=" + AGGREGATOR]
    if two_pass:
        args.append("-2")
    if key_log:
        args += key_log_options(key_log)
    args += extra
    if display_filter:
        args += ["-Y", display_filter]
    for name in names:
        args += ["-e", name]
    return args


def fields_rows(text, names):
    """The output of tshark run with fields_args(): one row per frame, each a
    list of the fields' values; a field that occurs several times in a frame
    is a list of its occurrences."""
    rows = []
    # Not splitlines(): it also splits at the aggregator (\x1e is a line boundary to Python).
    for line in text.split("\n")[:-1]:
        cells = line.split("\t")
        rows.append([cell.split(AGGREGATOR) if cell else [] for cell in cells])
    return normalise_fields(names, rows)


@functools.lru_cache(maxsize=None)
def fields(capture_name, display_filter, *names, two_pass=True, key_log=None, extra=()):
    """fields_rows() of the frames of a capture that match display_filter."""
    return fields_rows(tshark(*fields_args(capture(capture_name), display_filter, names, two_pass, key_log, extra)),
                       names)


def count(capture_name, display_filter, two_pass=True, key_log=None, extra=()):
    return len(fields(capture_name, display_filter, "frame.number", two_pass=two_pass,
                      key_log=key_log, extra=extra))


def column(capture_name, display_filter, name, two_pass=True, key_log=None, extra=()):
    """All occurrences of one field over all matching frames, in order."""
    values = []
    for row in fields(capture_name, display_filter, name, two_pass=two_pass, key_log=key_log, extra=extra):
        values.extend(row[0])
    return values


@functools.lru_cache(maxsize=None)
def experts(capture_name, key_log=None):
    """Counter of (expert info name, message) over the whole capture, from one
    tshark run: the names are the filterable ones, e.g. spicemig.truncated."""
    text = tshark("-r", capture(capture_name), "-2", *(key_log_options(key_log) if key_log else ()),
                  "-T", "json", "--no-duplicate-keys")
    found = collections.Counter()

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key == "_ws.expert":
                    for expert in value if isinstance(value, list) else [value]:
                        message = expert.get("_ws.expert.message", "")
                        for name in expert:
                            if not name.startswith("_ws.expert"):
                                found[(name, message)] += 1
                else:
                    walk(value)

    walk(json.loads(text))
    return found



def psml_rows(text):
    """The packet list of `-T psml` output: one dict per frame, column title
    to the column's text. PSML gives every column by its title on all three
    versions; `-e _ws.col.TITLE` does not: 4.4 and 4.6 name their column fields
    by format (_ws.col.info) and refuse some custom column titles
    (_ws.col.Migration, _ws.col.Outcome: "Some fields aren't valid")."""
    root = xml.etree.ElementTree.fromstring(text)
    titles = [section.text or "" for section in root.find("structure")]
    return [dict(zip(titles, (section.text or "" for section in packet))) for packet in root.iter("packet")]


def stats_tree_rows(text):
    """The rows of a `-z NAME,tree` report as (depth, item, count): the
    columns after the count and their widths differ between versions."""
    rows = []
    in_rows = False
    for line in text.splitlines():
        if line.startswith("Topic / Item"):
            in_rows = False
            continue
        if line.startswith("-----"):
            in_rows = not in_rows
            continue
        if in_rows and line.strip():
            depth = len(line) - len(line.lstrip(" "))
            item, count = re.split(r"\s{2,}", line.strip())[:2]
            rows.append((depth, item, int(count)))
    return rows


def malformed(capture_name, two_pass=True):
    """Counter of the protocols a Malformed Packet names over a capture
    ("SpiceMig" when spicemig's own code threw, "Spice" for the built-in)."""
    args = ["-r", capture(capture_name), "-Y", "_ws.malformed", "-V"]
    if two_pass:
        args.append("-2")
    return collections.Counter(re.findall(r"^\s*\[Malformed Packet: ([^\]:]+)", tshark(*args), re.MULTILINE))


def stat_table_rows(text, title):
    """The rows of the stat table TITLE in `-z` output (a statistic of
    register_stat_tap_table_ui, printed by tshark's tap-simple_stattable), as
    one dict per row: column name -> cell, trimmed. Every cell, the column
    names too, ends with " |"; a line without that names one of the
    statistic's tables. The same in 4.0, 4.4 and 4.6."""
    lines = text.split("\n" + title + ":\n", 1)[1].splitlines()
    assert lines[0].startswith("Filter for statistics:"), lines[0]
    columns = [name.strip() for name in lines[1].split(" |")[:-1]]
    rows = []
    for line in lines[2:]:
        if line.startswith("====="):
            break
        if line.endswith(" |"):
            rows.append(dict(zip(columns, (cell.strip() for cell in line.split(" |")[:-1]), strict=True)))
    return rows


def stat_table_columns(text, title):
    """The column names of the stat table TITLE in `-z` output, in order."""
    header = text.split("\n" + title + ":\n", 1)[1].splitlines()[1]
    return [name.strip() for name in header.split(" |")[:-1]]


# `-z spicemig,migrations`: the columns of a row, and their widths.
MIGRATIONS_COLUMNS = [("#", 3), ("Kind", 36), ("Outcome", 9), ("Source", 21), ("Destination", 21), ("Begin", 6),
                      ("End", 6), ("Begin>MIGRATE", 13), ("MIGRATE>fwd", 13), ("Display gap", 13), ("Sent", 5),
                      ("Forwarded", 9), ("Missing", 7), ("Modified", 8), ("Unmatched", 9)]


def migrations_rows(text):
    """The rows of the `-z spicemig,migrations` table, as one dict per
    migration: column -> value, trimmed, and "Reason" -> its Reason: line
    (None without one)."""
    lines = text.split("\nSPICE migrations (times in seconds)\n", 1)[1].splitlines()[1:]
    rows = []
    for line in lines:
        if line.startswith("====="):
            break
        if line.startswith("    Reason: "):
            rows[-1]["Reason"] = line[len("    Reason: "):]
            continue
        row, start = {}, 0
        for name, width in MIGRATIONS_COLUMNS:
            row[name] = line[start:start + width].strip()
            start += width + 1
        row["Reason"] = None
        rows.append(row)
    return rows


# `-z flow,NAME,...` (sequence_analysis_dump_to_file(), the same layout in 4.0,
# 4.4 and 4.6): node names on two header lines (even nodes on the first, odd
# ones on the second), then two lines per arrow: "|TIME" and the label over
# the arrow, then the comment; the arrow with the ports. A "Conv." column when
# the arrows belong to several conversations, and a rule between them.
FLOW_NODE_WIDTH = 20


def flow_graph(text):
    """(node names in order, arrows as (time, from node, to node, label, comment))
    of a `-z flow` report. Labels are as tshark prints them: cut to the space
    between the two nodes."""
    lines = [line for line in text.split("\n") if line and set(line) != {"-"}]
    header_len = len("Conv.| Time    ") if lines[0].startswith("Conv.|") else len("|Time     ")
    even = re.findall(r"\| (\S[^|]*?)\s*(?=\|)", lines[0][header_len:])
    odd = re.findall(r"\| (\S[^|]*?)\s*(?=\||$)", lines[1][header_len:])
    nodes = [name for pair in zip(even, odd + [None]) for name in pair if name is not None]
    arrows = []
    for label_line, arrow_line in zip(lines[2::2], lines[3::2]):
        time_start = header_len - len("|Time     ") + 1
        time_end = label_line.index("|", time_start)
        time = label_line[time_start:time_end]
        diagram = arrow_line[header_len:]
        label_rest = label_line[time_end:]
        # "------>" from the sender's column to two before the receiver's; "<------" the other way.
        first, last = re.search(r"[-<>]", diagram).start(), max(diagram.rfind("-"), diagram.rfind(">"))
        start, end = (first, last + 2) if diagram[last] == ">" else (last + 2, first)
        arrows.append((time, nodes[(start - FLOW_NODE_WIDTH // 2) // FLOW_NODE_WIDTH],
                       nodes[(end - FLOW_NODE_WIDTH // 2) // FLOW_NODE_WIDTH],
                       label_rest[min(start, end):max(start, end)].replace("|", " ").strip(),
                       label_rest[len(diagram):]))
    return nodes, arrows


@functools.lru_cache(maxsize=None)
def frames_by_time(capture_name):
    """Frame numbers by their time relative to the first frame, a Decimal: -z
    flow prints it with the capture's precision, frame.time_relative with 9 digits."""
    frames = collections.defaultdict(list)
    for number, time in (line.split("\t") for line in tshark("-r", capture(capture_name), "-T", "fields",
                                                             "-e", "frame.number", "-e",
                                                             "frame.time_relative").splitlines()):
        frames[decimal.Decimal(time)].append(int(number))
    return frames


def flow_arrows(capture_name, *options):
    """(node names, arrows as (frame, from, to, label, comment)) of `-z
    flow,spicemig,network` on a capture; a time two frames share fails."""
    nodes, arrows = flow_graph(tshark("-r", capture(capture_name), "-2", "-q", *options,
                                      "-z", "flow,spicemig,network"))
    numbered = []
    for time, sender, receiver, label, comment in arrows:
        frames = frames_by_time(capture_name)[decimal.Decimal(time.strip())]
        if len(frames) != 1:
            raise AssertionError("time %s of arrow %s is frames %s" % (time, label, frames))
        numbered.append((frames[0], sender, receiver, label, comment))
    return nodes, numbered
