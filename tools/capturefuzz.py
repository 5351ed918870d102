"""Whole-capture mutation fuzzing of the spicemig plugin, the way
Wireshark's tools/fuzz-test.sh does it, plus a structure-aware mutator.

- editcap mutants: `editcap -E RATE -o OFFSET --seed SEED` (random bytes
  changed at RATE, OFFSET bytes of each frame left alone: 54 keeps Ethernet,
  IPv4 and TCP intact so that every change lands in the SPICE payload).
- structure mutants: one per length, count or pointer field of the SPICE
  messages of a capture (tools/spicestream.py finds them) and per edge value
  (0, 1, value-1, value+1, 0x7fffffff, 0xffffffff; for a 1-byte field 0, 1,
  value±1, 0x7f, 0xff), written into a copy of the capture.

Each mutant runs through `tshark -nVxr` and `tshark -2 -nVxr` with the
plugin (tests/tshark-with-plugin; with SPICEMIG_PRELOAD set, the plugin's
sanitizers) and WIRESHARK_ABORT_ON_DISSECTOR_BUG. A finding is a crash
(signal), a sanitizer report, a dissector bug, a timeout, or a Malformed
Packet raised while spicemig was the current protocol; its input is kept in
the findings directory with a note of the command and what happened.
"""

import os
import shutil
import struct
import subprocess

import spicestream

HERE = os.path.dirname(os.path.abspath(__file__))
TSHARK_WITH_PLUGIN = os.path.join(HERE, "..", "tests", "tshark-with-plugin")
PASSES = (["-nVxr"], ["-2", "-nVxr"])
TIMEOUT = 120
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")
# The Malformed Packet of an exception spicemig's own code raised.
OWN_MALFORMED = "[Malformed Packet: SpiceMig"

# Body fields (offsets from the body start, spicemig-layouts.h and
# spicemig-control.c): width 4 unless said otherwise.
CHAR_DEVICE_FIELDS = [("chardev.write_size", 21), ("chardev.write_data_ptr", 29)]
BODY_FIELDS_BY_MAGIC = {
    b"DCMD": [("display.surfaces_ptr", 76)],
    b"MNMD": CHAR_DEVICE_FIELDS + [("main.chunk_header_size", 34), ("main.msg_header_partial_len", 47),
                                   ("main.msg_header_ptr", 51)],
    b"SCMD": CHAR_DEVICE_FIELDS + [("smartcard.read_size", 34), ("smartcard.read_data_ptr", 38)],
    b"SVMD": CHAR_DEVICE_FIELDS,
}
DST_INFO_FIELDS = [("dst_info.host_size", 4), ("dst_info.host_ptr", 8),
                   ("dst_info.cert_subject_size", 12), ("dst_info.cert_subject_ptr", 16)]
# (from_server, type) of the control messages with fields (main channel).
CONTROL_FIELDS = {(True, 101): DST_INFO_FIELDS, (True, 111): DST_INFO_FIELDS, (True, 116): DST_INFO_FIELDS}
WAIT_FOR_CHANNELS = (True, 5)
MIGRATE_DATA = {True: 2, False: 5}
# Of the ordinary messages, only the first few per direction get their size
# mutated: the framing after them is the same code every time.
ORDINARY_PER_DIRECTION = 3


def edge_values(value, width):
    top = (1 << (8 * width)) - 1
    half = top >> 1
    values = [0, 1, value - 1, value + 1, half, top]
    return sorted({v for v in values if 0 <= v <= top and v != value})


def _frame_offsets(path):
    """File offset of each frame's data, by frame number (pcap or pcapng)."""
    with open(path, "rb") as f:
        data = f.read()
    offsets = {}
    if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        pos, frame = 24, 1
        while pos + 16 <= len(data):
            caplen = struct.unpack_from("<I", data, pos + 8)[0]
            offsets[frame] = pos + 16
            pos += 16 + caplen
            frame += 1
        return offsets
    pos, frame = 0, 1
    while pos + 12 <= len(data):
        block_type, block_len = struct.unpack_from("<II", data, pos)
        if block_type == 6:  # Enhanced Packet Block
            offsets[frame] = pos + 28
            frame += 1
        pos += block_len
    return offsets


def _body_fields(conn, msg):
    """(name, stream offset, width) of the body fields of a migration message."""
    data = conn.data(msg.from_server)
    body, end = msg.body_offset, msg.offset + msg.length
    found = []
    if msg.type == MIGRATE_DATA[msg.from_server]:
        magic = data[body:body + 4]
        found = [(name, body + offset, 4) for name, offset in BODY_FIELDS_BY_MAGIC.get(magic, [])]
        if magic == b"DCMD" and body + 80 <= end:
            surfaces_ptr = struct.unpack_from("<I", data, body + 76)[0]
            if body + surfaces_ptr + 4 <= end:
                found.append(("display.surfaces.count", body + surfaces_ptr, 4))
    elif msg.channel_type == 1 and (msg.from_server, msg.type) in CONTROL_FIELDS:
        found = [(name, body + offset, 4) for name, offset in CONTROL_FIELDS[(msg.from_server, msg.type)]]
    elif (msg.from_server, msg.type) == WAIT_FOR_CHANNELS:
        found = [("wait_count", body, 1)]
    return [f for f in found if f[1] + f[2] <= end]


def structure_fields(path):
    """Every field to mutate in a capture: (connection, from_server, name, stream offset, width)."""
    out = []
    for conn in spicestream.connections(path):
        ordinary = {False: 0, True: 0}
        for msg in spicestream.messages(conn):
            fields = [(f.name, f.stream_offset, f.width) for f in msg.fields]
            if msg.kind == "data":
                migration = _body_fields(conn, msg)
                is_migration = bool(migration) or msg.type == MIGRATE_DATA[msg.from_server]
                if not is_migration:
                    ordinary[msg.from_server] += 1
                    if ordinary[msg.from_server] > ORDINARY_PER_DIRECTION:
                        continue
                fields += migration
            data = conn.data(msg.from_server)
            for name, offset, width in fields:
                if offset + width <= len(data):
                    out.append((conn, msg.from_server, name, offset, width))
    return out


def structure_mutants(path, workdir, limit=None, step=1):
    """Yield (mutant path, description) for every field and edge value (of
    every step-th of them, at most limit)."""
    with open(path, "rb") as f:
        original = f.read()
    offsets = _frame_offsets(path)
    count = index = 0
    for conn, from_server, name, stream_offset, width in structure_fields(path):
        data = conn.data(from_server)
        value = int.from_bytes(data[stream_offset:stream_offset + width], "little")
        for new in edge_values(value, width):
            index += 1
            if (index - 1) % step:
                continue
            if limit is not None and count >= limit:
                return
            mutant = bytearray(original)
            for i, byte in enumerate(new.to_bytes(width, "little")):
                frame, frame_offset = conn.locate(from_server, stream_offset + i)
                mutant[offsets[frame] + frame_offset] = byte
            first_frame = conn.locate(from_server, stream_offset)[0]
            description = "%s frame %d: %s %u -> %u (0x%x)" % (os.path.basename(path), first_frame, name,
                                                                value, new, new)
            out = os.path.join(workdir, "struct-%d-%s" % (count, os.path.basename(path)))
            with open(out, "wb") as f:
                f.write(mutant)
            count += 1
            yield out, description


def editcap_mutant(path, workdir, rate, offset, seed):
    out = os.path.join(workdir, "editcap-%s-%d-%d-%s" % (rate, offset, seed, os.path.basename(path)))
    subprocess.run(["editcap", "--seed", str(seed), "-E", rate, "-o", str(offset), path, out],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out, "%s editcap -E %s -o %d --seed %d" % (os.path.basename(path), rate, offset, seed)


def check(plugin, mutant, description, findings_dir):
    """Runs both passes; returns a list of findings (each a line of text) and
    keeps the input under findings_dir when there is one."""
    env = dict(os.environ, WIRESHARK_ABORT_ON_DISSECTOR_BUG="1", WIRESHARK_ABORT_ON_TOO_MANY_ITEMS="1")
    problems = []
    for args in PASSES:
        command = [TSHARK_WITH_PLUGIN, plugin, "-o", "tcp.check_checksum:FALSE", *args, mutant]
        try:
            proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                  timeout=TIMEOUT, errors="replace")
        except subprocess.TimeoutExpired:
            problems.append("%s: hang (over %d s)" % (" ".join(args), TIMEOUT))
            continue
        if proc.returncode < 0 or proc.returncode >= 128:
            problems.append("%s: exit %d" % (" ".join(args), proc.returncode))
        for mark in SANITIZER_MARKS + ("Dissector bug",):
            if mark in proc.stderr:
                problems.append("%s: %s" % (" ".join(args), mark))
        if OWN_MALFORMED in proc.stdout:
            problems.append("%s: %s" % (" ".join(args), OWN_MALFORMED + "]"))
    if problems and findings_dir:
        os.makedirs(findings_dir, exist_ok=True)
        kept = os.path.join(findings_dir, os.path.basename(mutant))
        shutil.copyfile(mutant, kept)
        with open(kept + ".txt", "w") as f:
            f.write("%s\n%s\nreplay: tests/tshark-with-plugin PLUGIN -o tcp.check_checksum:FALSE -2 -nVxr %s\n"
                    % (description, "\n".join(problems), kept))
    return problems
