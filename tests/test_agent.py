"""The guest agent traffic spicemig decodes itself (spicemig-agent.c): AGENT_DATA
both ways put back together across VDI chunks, MNMD's queued write data as the
chunks and agent messages it holds, the MNMD Info line on the agent data in
flight, and the display client messages the built-in calls unknown. All on the
synthetic captures of tools/make-synthetic-captures (agent-*, mnmd-*,
stream-report): exact values, exact Info, no Malformed, no warning."""

import unittest

from spicemig_tshark import column, experts, fields, malformed

SYN = "synthetic/"
AGENT_CAPTURES = ("agent-clipboard.pcap", "agent-file-xfer.pcap", "agent-monitors.pcap", "mnmd-write-data.pcap",
                  "mnmd-stale-chunk-header.pcap", "stream-report.pcap")


def info(capture_name, display_filter):
    return [row[1][0] for row in fields(SYN + capture_name, display_filter, "frame.number", "_ws.col.Info")]


def values(capture_name, display_filter, name):
    return column(SYN + capture_name, display_filter, name)


class Clean(unittest.TestCase):
    def test_no_malformed_no_warning(self):
        for cap in AGENT_CAPTURES:
            with self.subTest(capture=cap):
                self.assertEqual(malformed(SYN + cap), {})
                found = experts(SYN + cap)
                # Only notes and chats: no "Unknown agent message", no
                # "Unknown display client message", no spicemig warning.
                for (name, message), _ in found.items():
                    self.assertNotIn("Unknown", message, name)
                    self.assertNotIn(name, ("spice.unknown_message", "spicemig.agent.bad_header",
                                            "spicemig.agent.short", "_ws.malformed"), message)

    def test_only_note_is_the_unfinished_message(self):
        unfinished = {key: n for key, n in experts(SYN + "agent-clipboard.pcap").items()
                      if key[0] == "spicemig.agent.unfinished"}
        self.assertEqual(unfinished, {("spicemig.agent.unfinished",
                                       "Agent message CLIPBOARD not finished: 2048 of 3028 bytes in the capture "
                                       "(the capture or this connection ends before the rest)"): 1})
        for cap in AGENT_CAPTURES[1:]:
            self.assertFalse([key for key in experts(SYN + cap) if key[0].startswith("spicemig.agent")], cap)


class Clipboard(unittest.TestCase):
    cap = "agent-clipboard.pcap"

    def test_info(self):
        self.assertEqual(info(self.cap, "spicemig.msg.name == \"AGENT_DATA\""), [
            "Main AGENT_DATA ANNOUNCE_CAPABILITIES request, caps 0x00035077",
            "Main AGENT_DATA ANNOUNCE_CAPABILITIES caps 0x000201ef",
            "Main AGENT_DATA CLIPBOARD_GRAB UTF8_TEXT",
            "Main AGENT_DATA CLIPBOARD_REQUEST UTF8_TEXT",
            "Main AGENT_DATA CLIPBOARD UTF8_TEXT, 5000 bytes, bytes 0-2047 of 5028",
            "Main AGENT_DATA continuation of CLIPBOARD, bytes 2048-4095 of 5028",
            "Main AGENT_DATA continuation of CLIPBOARD, bytes 4096-5027 of 5028",
            "Main AGENT_DATA CLIPBOARD UTF8_TEXT, 3000 bytes, bytes 0-2047 of 3028",
        ])

    def test_headers(self):
        flt = "spicemig.agent.type"
        self.assertEqual(values(self.cap, flt, "spicemig.agent.type"), ["6", "6", "7", "8", "4", "4"])
        self.assertEqual(values(self.cap, flt, "spicemig.agent.size"), ["8", "8", "12", "8", "5008", "3008"])
        self.assertEqual(values(self.cap, flt, "spicemig.agent.protocol"), ["1"] * 6)
        self.assertEqual(values(self.cap, flt, "spicemig.agent.opaque"), ["0x0000000000000000"] * 6)
        self.assertEqual(values(self.cap, flt, "spicemig.agent.caps.request"), ["1", "0"])
        self.assertEqual(values(self.cap, flt, "spicemig.agent.caps.word"), ["0x00035077", "0x000201ef"])

    def test_clipboard_fields(self):
        flt = "spicemig.agent.clipboard.type"
        self.assertEqual(values(self.cap, flt, "spicemig.agent.clipboard.type"), ["1"] * 4)
        self.assertEqual(values(self.cap, flt, "spicemig.agent.clipboard.selection"), ["0"] * 4)
        self.assertEqual(values(self.cap, flt, "spicemig.agent.clipboard.serial"), ["7"])
        self.assertEqual(values(self.cap, flt, "spicemig.agent.clipboard.data_length"), ["5000", "3000"])
        # The agent announced its capabilities: nothing assumed.
        self.assertEqual(values(self.cap, "spicemig.agent.caps.assumed", "spicemig.agent.caps.assumed"), [])

    def test_continuations(self):
        rows = fields(SYN + self.cap, "spicemig.agent.continuation.from", "frame.number",
                      "spicemig.agent.continuation.type", "spicemig.agent.continuation.from",
                      "spicemig.agent.continuation.to", "spicemig.agent.continuation.total",
                      "spicemig.agent.begin_frame")
        self.assertEqual(rows, [[["15"], ["4"], ["2048"], ["4095"], ["5028"], ["14"]],
                                [["16"], ["4"], ["4096"], ["5027"], ["5028"], ["14"]]])


class FileTransfer(unittest.TestCase):
    cap = "agent-file-xfer.pcap"

    def test_info(self):
        self.assertEqual(info(self.cap, "spicemig.msg.name == \"AGENT_DATA\"")[2:], [
            "Main AGENT_DATA FILE_XFER_START id 1",
            "Main AGENT_DATA FILE_XFER_STATUS id 1 CAN_SEND_DATA",
            "Main AGENT_DATA FILE_XFER_DATA id 1, 3000 bytes, bytes 0-2047 of 3032",
            "Main AGENT_DATA continuation of FILE_XFER_DATA, bytes 2048-3031 of 3032",
            "Main AGENT_DATA FILE_XFER_STATUS id 1 SUCCESS",
        ])

    def test_fields(self):
        flt = "spicemig.agent.file_xfer.id"
        self.assertEqual(values(self.cap, flt, "spicemig.agent.file_xfer.id"), ["1", "1", "1", "1"])
        self.assertEqual(values(self.cap, flt, "spicemig.agent.file_xfer.result"), ["0", "3"])
        self.assertEqual(values(self.cap, flt, "spicemig.agent.file_xfer.data_size"), ["3000"])
        self.assertEqual(values(self.cap, flt, "spicemig.agent.file_xfer.metadata"),
                         ["[vdagent-file-xfer]\\nname=notes.txt\\nsize=3000\\n"])
        self.assertEqual(values(self.cap, "spicemig.agent.continuation.from", "spicemig.agent.begin_frame"), ["14"])


class Monitors(unittest.TestCase):
    cap = "agent-monitors.pcap"

    def test_fields(self):
        self.assertEqual(info(self.cap, "spicemig.agent.type == 2 || spicemig.agent.type == 3"), [
            "Main AGENT_DATA MONITORS_CONFIG 2 monitors: 1024x768, 800x600",
            "Main AGENT_DATA REPLY to MONITORS_CONFIG",
        ])
        flt = "spicemig.agent.monitors.count"
        self.assertEqual(values(self.cap, flt, "spicemig.agent.monitors.count"), ["2"])
        self.assertEqual(values(self.cap, flt, "spicemig.agent.monitors.flags"), ["0x00000001"])
        self.assertEqual(values(self.cap, flt, "spicemig.agent.monitor.width"), ["1024", "800"])
        self.assertEqual(values(self.cap, flt, "spicemig.agent.monitor.height"), ["768", "600"])
        self.assertEqual(values(self.cap, flt, "spicemig.agent.monitor.depth"), ["32", "32"])
        self.assertEqual(values(self.cap, flt, "spicemig.agent.monitor.x"), ["0", "1024"])
        self.assertEqual(values(self.cap, flt, "spicemig.agent.monitor.y"), ["0", "0"])
        self.assertEqual(values(self.cap, "spicemig.agent.reply.type", "spicemig.agent.reply.type"), ["2"])
        self.assertEqual(values(self.cap, "spicemig.agent.reply.type", "spicemig.agent.reply.error"), ["1"])


class MigrateDataWriteQueue(unittest.TestCase):
    cap = "mnmd-write-data.pcap"
    mnmd_info = ("MNMD v1: agent connected, agent\u2192client 1500 bytes left, client\u2192agent 2932 bytes left, "
                 "write queue 148 bytes in 2 chunks")

    def test_info(self):
        self.assertEqual(info(self.cap, "spicemig.magic == \"MNMD\""), [
            "Main MIGRATE_DATA source\u2192client " + self.mnmd_info,
            "Main MIGRATE_DATA client\u2192destination " + self.mnmd_info,
        ])

    def test_write_data_chunks(self):
        flt = "spicemig.magic == \"MNMD\""
        self.assertEqual(values(self.cap, flt, "spicemig.agent.chunk.port"), ["1", "1"] * 2)
        self.assertEqual(values(self.cap, flt, "spicemig.agent.chunk.size"), ["32", "100"] * 2)
        self.assertEqual(values(self.cap, flt, "spicemig.agent.type"), ["7", "12"] * 2)
        self.assertEqual(values(self.cap, flt, "spicemig.agent.size"), ["12", "3012"] * 2)
        self.assertEqual(values(self.cap, flt, "spicemig.agent.clipboard.serial"), ["9"] * 2)
        self.assertEqual(values(self.cap, flt, "spicemig.agent.file_xfer.id"), ["2"] * 2)
        self.assertEqual(values(self.cap, flt, "spicemig.agent.file_xfer.data_size"), ["3000"] * 2)
        self.assertEqual(values(self.cap, flt, "spicemig.agent.queue_note"),
                         ["the rest (2932 bytes) was still to come from the client"] * 2)
        self.assertEqual(values(self.cap, flt, "spicemig.chardev.write_size"), ["148"] * 2)

    def test_destination_continues_both_ways(self):
        self.assertEqual(info(self.cap, "spicemig.msg.name == \"AGENT_DATA\" && spicemig.role == \"destination\""), [
            "Main AGENT_DATA continuation of a message begun before the migration, bytes 0-2047 of the 2932 left",
            "Main AGENT_DATA continuation of a message begun before the migration, bytes 2048-2931 of the 2932 left",
            "Main AGENT_DATA continuation of a message begun before the migration, bytes 0-1499 of the 1500 left",
            "Main AGENT_DATA FILE_XFER_STATUS id 2 SUCCESS",
        ])


class StaleChunkHeader(unittest.TestCase):
    cap = "mnmd-stale-chunk-header.pcap"

    def test_labelled_stale(self):
        text = fields(SYN + self.cap, "spicemig.magic", "spicemig.main.agent2client.chunk_header_size",
                      "spicemig.main.agent2client.chunk_header.size")
        self.assertEqual(text, [[["0"], ["28"]]])
        self.assertEqual(info(self.cap, "spicemig.magic"),
                         ["Main MIGRATE_DATA source\u2192client MNMD v1: agent connected, no agent data in flight"])

    def test_item_text(self):
        from spicemig_tshark import capture, tshark
        out = tshark("-r", capture(SYN + self.cap), "-2", "-Y", "spicemig.magic", "-O", "spicemig")
        self.assertIn("Chunk size: 28 bytes (stale: no header byte read)", out)
        self.assertIn("Chunk port: Client (1) (stale: no header byte read)", out)


class DisplayClientMessages(unittest.TestCase):
    cap = "stream-report.pcap"

    def test_info(self):
        self.assertEqual(info(self.cap, "spicemig.direction == 0 && spicemig.msg.type > 101"), [
            "Display PREFERRED_COMPRESSION LZ4",
            "Display PREFERRED_VIDEO_CODEC_TYPE VP8,MJPEG",
            "Display STREAM_REPORT stream 0: 25 frames, 0 drops",
            "Display STREAM_REPORT stream 3: not supported by the client",
            "Display GL_DRAW_DONE",
        ])

    def test_fields(self):
        flt = "spicemig.stream_report.stream_id"
        for name, expected in (("stream_id", ["0", "3"]), ("unique_id", ["1", "2"]),
                               ("start_frame_mm_time", ["1000", "0"]), ("end_frame_mm_time", ["2000", "0"]),
                               ("num_frames", ["25", "0"]), ("num_drops", ["0", "4294967295"]),
                               ("last_frame_delay", ["-12", "0"]), ("audio_delay", ["4294967295", "4294967295"])):
            self.assertEqual(values(self.cap, flt, "spicemig.stream_report." + name), expected, name)
        self.assertEqual(values(self.cap, "spicemig.preferred_compression", "spicemig.preferred_compression"), ["7"])
        self.assertEqual(values(self.cap, "spicemig.preferred_video_codec.count", "spicemig.preferred_video_codec.codec"),
                         ["2", "1"])


if __name__ == "__main__":
    unittest.main()
