"""Runs the real tshark with the freshly built spicemig plugin and returns
what it decoded, for the tests to assert on."""

import collections
import functools
import json
import os
import re
import subprocess

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
ANY_EXPERT = " || ".join(BODY_EXPERTS + STREAM_EXPERTS)
# Separates the occurrences of a field; no decoded text contains it.
AGGREGATOR = "\x1e"


def capture(name):
    path = os.path.join(CAPTURES, name)
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    return path


def tshark(*args):
    """tshark's stdout; fails the test on a non-zero exit or anything on stderr."""
    proc = subprocess.run([os.path.join(HERE, "tshark-with-plugin"), PLUGIN, *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    if proc.returncode != 0 or proc.stderr.strip():
        raise AssertionError("tshark %s failed (%d): %s" % (" ".join(args), proc.returncode, proc.stderr))
    return proc.stdout


def builtin_only(capture_name, *args):
    """tshark's stdout without the plugin: the built-in dissectors alone (no
    personal plugins in a HOME that does not exist, a global install disabled)."""
    proc = subprocess.run(["tshark", "--disable-protocol", "spicemig", "-r", capture(capture_name), *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300,
                          env={"HOME": "/nonexistent", "PATH": "/usr/bin:/bin"})
    if proc.returncode != 0:
        raise AssertionError("tshark failed: " + proc.stderr)
    return proc.stdout


@functools.lru_cache(maxsize=None)
def fields(capture_name, display_filter, *names, two_pass=True):
    """One row per matching frame, each a list of the fields' values; a field
    that occurs several times in a frame is a list of its occurrences."""
    args = ["-r", capture(capture_name), "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=" + AGGREGATOR]
    if two_pass:
        args.append("-2")
    if display_filter:
        args += ["-Y", display_filter]
    for name in names:
        args += ["-e", name]
    rows = []
    # split("\n"), not splitlines(): that also splits at the aggregator (\x1e).
    for line in tshark(*args).split("\n")[:-1]:
        cells = line.split("\t")
        rows.append([cell.split(AGGREGATOR) if cell else [] for cell in cells])
    return rows


def count(capture_name, display_filter, two_pass=True):
    return len(fields(capture_name, display_filter, "frame.number", two_pass=two_pass))


def column(capture_name, display_filter, name, two_pass=True):
    """All occurrences of one field over all matching frames, in order."""
    values = []
    for row in fields(capture_name, display_filter, name, two_pass=two_pass):
        values.extend(row[0])
    return values


@functools.lru_cache(maxsize=None)
def experts(capture_name):
    """Counter of (expert info name, message) over the whole capture, from one
    tshark run: the names are the filterable ones, e.g. spicemig.truncated."""
    text = tshark("-r", capture(capture_name), "-2", "-T", "json", "--no-duplicate-keys")
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



def malformed(capture_name, two_pass=True):
    """Counter of the protocols a Malformed Packet names over a capture
    ("SpiceMig" when spicemig's own code threw, "Spice" for the built-in)."""
    args = ["-r", capture(capture_name), "-Y", "_ws.malformed", "-V"]
    if two_pass:
        args.append("-2")
    return collections.Counter(re.findall(r"^\s*\[Malformed Packet: ([^\]:]+)", tshark(*args), re.MULTILINE))
