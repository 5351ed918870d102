"""The real guest desktop captures (tools/make-migration-capture --guest on
QEMU 7.2, spice-server 0.15.1, spice-gtk 0.42): seamless migrations with the
agent busy both ways. guest-agent-busy.pcapng: the agent->client message
had all reached the source (a stale chunk header in MNMD);
guest-agent-in-flight.pcapng (jpeg-wan-compression=always, small loopback
socket buffers): spice-server stopped reading the CLIPBOARD message from
the agent part way, so MNMD carries it in flight;
guest-paused-source-abort.pcapng: the source QEMU aborted after MIGRATE,
no MNMD. The expected values were
read independently of spicemig (the recorder's --check-only and
tools/spicestream.py frame the captures; see testcaptures/README.md)."""

import os
import sys
import unittest

from spicemig_tshark import HERE, capture, column, experts, fields, malformed, migrations_rows, tshark

sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import spicestream  # noqa: E402

MNMD = 'spicemig.magic == "MNMD"'
# Chardev, main and agent fields every MNMD of an attached agent has.
MNMD_FIELDS = ("version", "chardev.version", "chardev.connected", "chardev.num_client_tokens",
               "chardev.num_send_tokens", "chardev.write_size", "chardev.write_num_client_tokens",
               "chardev.write_data_ptr", "main.client_agent_started", "main.agent2client.chunk_header_size",
               "main.agent2client.chunk_header.port", "main.agent2client.chunk_header.size",
               "main.agent2client.msg_header_done", "main.agent2client.msg_header_partial_len",
               "main.agent2client.msg_header_ptr", "main.agent2client.msg_remaining",
               "main.agent2client.msg_filter_result", "main.client2agent.msg_remaining",
               "main.client2agent.msg_filter_result")
DCMD_FIELDS = ("version", "display.message_serial", "display.low_bandwidth", "display.pixmap_cache.id",
               "display.pixmap_cache.size", "display.pixmap_cache.freezer", "display.glz_dict.id",
               "display.glz_dict.size", "display.glz_dict.max_encoders", "display.glz_dict.last_image_id",
               "display.surfaces_ptr", "display.surfaces.count", "display.surfaces.lossy", "display.surface.id")
LOSSY_RECT = tuple("display.surface.lossy_rect." + side for side in ("left", "top", "right", "bottom"))


CLIPBOARD_BEGINS = "Main AGENT_DATA CLIPBOARD UTF8_TEXT, 409600 bytes, bytes 0-2047 of 409628"
FILE_DATA_BEGINS = "Main AGENT_DATA FILE_XFER_DATA id 1, 65536 bytes, bytes 0-2047 of 65568"


def continued(first, last, left):
    """Info of the client's AGENT_DATA on the destination that goes on with
    what MNMD says was left of a message."""
    return ("Main AGENT_DATA continuation of a message begun before the migration, bytes %d-%d of the %d left"
            % (first, last, left))


class Guest:
    """One guest capture and what it holds."""

    def __init__(self, name, bodies, mnmd, chunk_label, chunks, queue, mnmd_info, display, lossy_rect, agent_infos,
                 streams, unfinished):
        self.name = name
        # magic -> (source frame, forwarded copy's last frame)
        self.bodies = bodies
        self.mnmd = dict(zip(MNMD_FIELDS, mnmd))
        self.chunk_label = chunk_label
        self.chunks = chunks
        # (how many leading chunks continue a message begun before, the
        # (type, size, file transfer id, data size) of each message begun in the queue)
        self.queue = queue
        self.mnmd_info = mnmd_info
        self.display = dict(zip(DCMD_FIELDS, display))
        self.lossy_rect = lossy_rect
        self.agent_infos = agent_infos
        # (STREAM_CREATEs, STREAM_REPORTs)
        self.streams = streams
        self.unfinished = unfinished


GUESTS = [
    Guest("guest-agent-busy.pcapng",
          bodies={"MNMD": ("897", "898"), "DCMD": ("915", "925"), "ICMD": ("894", "895")},
          mnmd=("1", "1", "1", "0", "4294967091", "18544", "10", "65", "1", "0", "1", "409628", "0", "0", "0", "0",
                "0", "51232", "0"),
          chunk_label="Chunk size: 409628 bytes (stale: no header byte read)",
          chunks=["2048", "2048", "32"] + ["2048"] * 7,
          # 4128 bytes ending a FILE_XFER_DATA begun before, then the next one.
          queue=(3, [("12", "65548", "1", "65536")]),
          mnmd_info="agent connected, client→agent 51232 bytes left, write queue 18544 bytes in 10 chunks",
          display=("1", "71", "0", "1", "20971520", "1", "1", "6290432", "4", "8", "80", "1", "0", "0"),
          lossy_rect=None,
          agent_infos={
              # The clipboard reassembled on the source, the file data left
              # over continued on the destination.
              "730": CLIPBOARD_BEGINS, "948": continued(0, 2047, 51232), "987": continued(51200, 51231, 51232),
              "988": FILE_DATA_BEGINS},
          streams=(1, 9),
          unfinished=2),
    Guest("guest-agent-in-flight.pcapng",
          bodies={"MNMD": ("1541", "1586"), "DCMD": ("1544", "1548"), "ICMD": ("1530", "1531")},
          mnmd=("1", "1", "1", "0", "4294967214", "20560", "10", "65", "1", "8", "1", "249884", "1", "0", "0",
                "249884", "0", "32800", "0"),
          # spice-server writes what is left of the chunk there.
          chunk_label="Chunk size: 249884 bytes (still to read from the agent)",
          chunks=["2048"] * 10,
          # All ten continue the FILE_XFER_DATA begun before (its bytes 12288-32767).
          queue=(10, []),
          mnmd_info="agent connected, agent→client 249884 bytes left, client→agent 32800 bytes left, write queue "
                    "20560 bytes in 10 chunks",
          display=("1", "523", "0", "1", "20971520", "1", "1", "6290432", "4", "377", "80", "1", "1", "0"),
          # The picture (xwud, its frame at +8+250) sent as JPEG after the drags.
          lossy_rect=["10", "271", "266", "462"],
          agent_infos={
              "1411": CLIPBOARD_BEGINS, "1595": continued(0, 2047, 32800), "1617": continued(32768, 32799, 32800),
              "1622": FILE_DATA_BEGINS},
          streams=(2, 6),
          unfinished=3),
]


# SPICE_MSG_MIGRATE_DATA and SPICE_MSGC_MIGRATE_DATA
MIGRATE_DATA_TYPE = {True: 2, False: 5}


def framed_body(name, magic):
    """A copy of the body of `magic`, framed by tools/spicestream.py (from
    the source or the client: the one that a retransmission does not hide
    from its framing)."""
    for conn in spicestream.connections(capture(name)):
        for message in spicestream.messages(conn):
            if message.kind == "data" and message.type == MIGRATE_DATA_TYPE[message.from_server]:
                body = conn.data(message.from_server)[message.body_offset:message.offset + message.length]
                if body[:4] == magic:
                    return body
    raise AssertionError("no %s body framed in %s" % (magic, name))


def body_fields(case, guest, magic, expected):
    """Asserts each field of `expected` in both copies of the `magic` body."""
    names = ["spicemig." + name for name in expected]
    rows = fields(guest.name, 'spicemig.magic == "%s"' % magic, *names)
    for index, (name, value) in enumerate(expected.items()):
        with case.subTest(capture=guest.name, field=name):
            case.assertEqual([row[index] for row in rows], [value] * 2)


class GuestCaptures(unittest.TestCase):
    def test_body_frames(self):
        for guest in GUESTS:
            for magic, frames in guest.bodies.items():
                with self.subTest(capture=guest.name, magic=magic):
                    self.assertEqual(column(guest.name, 'spicemig.magic == "%s"' % magic, "frame.number"),
                                     list(frames))

    def test_mnmd_fields(self):
        for guest in GUESTS:
            body_fields(self, guest, "MNMD", {name: [value] for name, value in guest.mnmd.items()})

    def test_chunk_header_label(self):
        for guest in GUESTS:
            with self.subTest(capture=guest.name):
                text = tshark("-r", capture(guest.name), "-2", "-Y", "frame.number == " + guest.bodies["MNMD"][0],
                              "-O", "spicemig", "-V")
                self.assertEqual([line.strip() for line in text.splitlines() if "Chunk size:" in line],
                                 [guest.chunk_label])

    def test_write_data(self):
        # The queued bytes, as spicestream frames them, in both copies.
        for guest in GUESTS:
            with self.subTest(capture=guest.name):
                body = framed_body(guest.name, b"MNMD")
                offset, size = int(guest.mnmd["chardev.write_data_ptr"]), int(guest.mnmd["chardev.write_size"])
                expected = body[offset:offset + size].hex()
                self.assertEqual([value.replace(":", "") for value in
                                  column(guest.name, MNMD, "spicemig.chardev.write_data")], [expected, expected])

    def test_write_queue_chunks(self):
        for guest in GUESTS:
            for frame in guest.bodies["MNMD"]:
                with self.subTest(capture=guest.name, frame=frame):
                    where = "frame.number == " + frame
                    self.assertEqual(column(guest.name, where, "spicemig.agent.chunk.size"), guest.chunks)
                    self.assertEqual(column(guest.name, where, "spicemig.agent.chunk.port"), ["1"] * 10)
                    continued, begun = guest.queue
                    notes = column(guest.name, where, "spicemig.agent.queue_note")
                    # A message begun in the queue: after each of its chunks, what
                    # the client had still to send (its size with the 20-byte header).
                    rest = int(begun[0][1]) + 20 if begun else 0
                    self.assertEqual(notes, ["continues an agent message whose start the source had already written "
                                             "to the agent"] * continued
                                     + ["the rest (%d bytes) was still to come from the client" % (rest - 2048 * chunk)
                                        for chunk in range(1, len(guest.chunks) - continued + 1) if begun])
                    names = ("spicemig.agent.type", "spicemig.agent.size", "spicemig.agent.file_xfer.id",
                             "spicemig.agent.file_xfer.data_size")
                    self.assertEqual([tuple(column(guest.name, where, name)) for name in names],
                                     [tuple(message[index] for message in begun) for index in range(len(names))])

    def test_display_and_inputs_bodies(self):
        for guest in GUESTS:
            display = {name: [value] for name, value in guest.display.items()}
            display["display.pixmap_cache.client"] = ["0"] * 4
            display.update((side, [value] if guest.lossy_rect else [])
                           for side, value in zip(LOSSY_RECT, guest.lossy_rect or LOSSY_RECT))
            body_fields(self, guest, "DCMD", display)
            body_fields(self, guest, "ICMD", {"version": ["1"], "inputs.motion_count": ["0"]})

    def test_info(self):
        for guest in GUESTS:
            with self.subTest(capture=guest.name):
                info = [row[0][0].split(", Main PONG")[0] for row in fields(guest.name, MNMD, "_ws.col.Info")]
                self.assertEqual(info, ["Main MIGRATE_DATA source→client MNMD v1: " + guest.mnmd_info,
                                        "Main MIGRATE_DATA client→destination MNMD v1: " + guest.mnmd_info])

    def test_forwarded_unchanged(self):
        for guest in GUESTS:
            with self.subTest(capture=guest.name):
                frames = [forwarded for _, forwarded in guest.bodies.values()]
                self.assertEqual(sorted(column(guest.name, "spicemig.forwarded_from", "frame.number"), key=int),
                                 sorted(frames, key=int))
                self.assertEqual(column(guest.name, "spicemig.forward_identical == 1", "frame.number"),
                                 sorted(frames + [source for source, _ in guest.bodies.values()], key=int))
                for flt in ("spicemig.forward_modified", "spicemig.forward_missing", "spicemig.forward_unmatched"):
                    self.assertEqual(column(guest.name, flt, "frame.number"), [], flt)

    def test_agent_stream(self):
        for guest in GUESTS:
            with self.subTest(capture=guest.name):
                where = " || ".join("frame.number == " + frame for frame in guest.agent_infos)
                info = [row[0][0].split(", Main")[0] for row in fields(guest.name, where, "_ws.col.Info")]
                self.assertEqual(info, list(guest.agent_infos.values()))

    def test_video_stream(self):
        for guest in GUESTS:
            with self.subTest(capture=guest.name):
                names = column(guest.name, 'spicemig.msg.name contains "STREAM"', "spicemig.msg.name")
                self.assertEqual((names.count("STREAM_CREATE"), names.count("STREAM_REPORT")), guest.streams)

    def test_no_malformed(self):
        for guest in GUESTS:
            with self.subTest(capture=guest.name):
                self.assertEqual(malformed(guest.name), {})

    def test_no_spice_warning(self):
        # Only the timeline and the note on agent messages the capture ends
        # inside; nothing from the built-in SPICE dissector above a note.
        for guest in GUESTS:
            with self.subTest(capture=guest.name):
                found = experts(guest.name)
                names = sorted({name for name, _ in found if name.startswith("spicemig.")
                                and not name.startswith("spicemig.milestone.")})
                self.assertEqual(names, ["spicemig.agent.unfinished"])
                # The built-in's notes on DRAW_COPY masks without a bitmap.
                self.assertEqual(sorted({name for name, _ in found if name.startswith("spice.")}),
                                 ["spice.mask_flag.irrelevant", "spice.mask_point.irrelevant"])
                self.assertEqual(sum(count for (name, _), count in found.items()
                                     if name == "spicemig.agent.unfinished"),
                                 guest.unfinished)

    def test_migration(self):
        for guest in GUESTS:
            with self.subTest(capture=guest.name):
                rows = migrations_rows(tshark("-r", capture(guest.name), "-2", "-q", "-z", "spicemig,migrations"))
                self.assertEqual([(r["Kind"], r["Outcome"], r["Source"], r["Destination"], r["Sent"],
                                   r["Forwarded"], r["Missing"], r["Modified"], r["Unmatched"]) for r in rows],
                                 [("seamless", "completed", "127.0.0.1:5910", "127.0.0.1:5912", "3", "3", "0", "0",
                                   "0")])


PAUSED = "guest-paused-source-abort.pcapng"


class GuestPausedSourceAbort(unittest.TestCase):
    """testcaptures/guest-paused-source-abort.pcapng: the guest paused (QMP
    stop) during the migration with the agent sending; spice-server 0.15.1
    aborts the source QEMU after MIGRATE (frames read without spicemig, see
    testcaptures/scenarios.md)."""

    def test_bodies(self):
        # ICMD and DCMD sent and forwarded; no MNMD in either direction.
        self.assertEqual(fields(PAUSED, "spicemig.magic", "frame.number", "spicemig.magic"),
                         [[["417"], ["ICMD"]], [["419"], ["ICMD"]], [["428"], ["DCMD"]], [["429"], ["DCMD"]]])

    def test_agent_data_after_main_migrate(self):
        self.assertEqual(column(PAUSED, 'spicemig.msg.name == "MIGRATE" && spicemig.channel.type == 1',
                                "frame.number"), ["471"])
        info = [row[0][0] for row in fields(PAUSED, "frame.number == 473 || frame.number == 485", "_ws.col.Info")]
        self.assertEqual(info[0], "Main AGENT_DATA continuation of CLIPBOARD, bytes 393216-395263 of 409628 "
                         "[main body never sent]")
        self.assertEqual(info[1].split(", Main")[0],
                         "Main AGENT_DATA CLIPBOARD UTF8_TEXT, 409600 bytes, bytes 0-2047 of 409628")

    def test_no_malformed(self):
        self.assertEqual(malformed(PAUSED), {})

    def test_migration(self):
        rows = migrations_rows(tshark("-r", capture(PAUSED), "-2", "-q", "-z", "spicemig,migrations"))
        self.assertEqual([(r["Kind"], r["Outcome"], r["End"], r["Sent"], r["Forwarded"], r["Missing"])
                          for r in rows], [("seamless", "failed", "544", "2", "2", "0")])


if __name__ == "__main__":
    unittest.main()
