"""The real guest desktop capture (testcaptures/guest-agent-busy.pcapng:
tools/make-migration-capture --guest on QEMU 7.2, spice-server 0.15.1,
spice-gtk 0.42): a seamless migration with the agent busy both ways. The
expected MNMD values were read independently of spicemig (the recorder's
--check-only frames the capture with tools/spicestream.py; see
testcaptures/README.md)."""

import unittest

from spicemig_tshark import capture, column, experts, fields, malformed, migrations_rows, tshark

CAP = "guest-agent-busy.pcapng"
MNMD = 'spicemig.magic == "MNMD"'

# Field -> value, the same in the source's body (frame 897) and the forwarded copy (898).
EXPECTED_MNMD = {
    "spicemig.version": "1",
    "spicemig.chardev.version": "1",
    "spicemig.chardev.connected": "1",
    "spicemig.chardev.num_client_tokens": "0",
    "spicemig.chardev.num_send_tokens": "4294967091",
    "spicemig.chardev.write_size": "18544",
    "spicemig.chardev.write_num_client_tokens": "10",
    "spicemig.chardev.write_data_ptr": "65",
    "spicemig.main.client_agent_started": "1",
    "spicemig.main.agent2client.chunk_header_size": "0",
    "spicemig.main.agent2client.chunk_header.port": "1",
    "spicemig.main.agent2client.chunk_header.size": "409628",
    "spicemig.main.agent2client.msg_header_done": "0",
    "spicemig.main.agent2client.msg_header_partial_len": "0",
    "spicemig.main.agent2client.msg_header_ptr": "0",
    "spicemig.main.agent2client.msg_remaining": "0",
    "spicemig.main.agent2client.msg_filter_result": "0",
    "spicemig.main.client2agent.msg_remaining": "51232",
    "spicemig.main.client2agent.msg_filter_result": "0",
}


def normalise(value):
    # tshark 4.0 prints booleans 1/0, 4.4 and later True/False.
    return {"True": "1", "False": "0"}.get(value, value)


class GuestAgentBusy(unittest.TestCase):
    def test_mnmd_fields(self):
        self.assertEqual(column(CAP, MNMD, "frame.number"), ["897", "898"])
        for name, value in EXPECTED_MNMD.items():
            with self.subTest(field=name):
                self.assertEqual([normalise(v) for v in column(CAP, MNMD, name)], [value, value])

    def test_write_queue_chunks(self):
        sizes = column(CAP, "frame.number == 897", "spicemig.agent.chunk.size")
        self.assertEqual(sizes, ["2048", "2048", "32"] + ["2048"] * 7)
        self.assertEqual(column(CAP, "frame.number == 897", "spicemig.agent.chunk.port"), ["1"] * 10)

    def test_info(self):
        info = [row[0][0] for row in fields(CAP, MNMD, "_ws.col.Info")]
        self.assertEqual(info, [
            "Main MIGRATE_DATA source→client MNMD v1: agent connected, client→agent 51232 bytes left, "
            "write queue 18544 bytes in 10 chunks",
            "Main MIGRATE_DATA client→destination MNMD v1: agent connected, client→agent 51232 bytes left, "
            "write queue 18544 bytes in 10 chunks",
        ])

    def test_forwarded_unchanged(self):
        self.assertEqual(column(CAP, "frame.number == 898", "spicemig.forwarded_from"), ["897"])
        for flt in ("spicemig.forward_modified", "spicemig.forward_missing", "spicemig.forward_unmatched"):
            self.assertEqual(column(CAP, flt, "frame.number"), [], flt)

    def test_agent_stream(self):
        # The clipboard reassembled on the source, the file data left over
        # continued on the destination.
        info = [row[0][0] for row in fields(CAP, "frame.number == 730 || frame.number == 948 || frame.number == 987 || frame.number == 988", "_ws.col.Info")]
        self.assertEqual(info[0].split(", Main")[0],
                         "Main AGENT_DATA CLIPBOARD UTF8_TEXT, 409600 bytes, bytes 0-2047 of 409628")
        self.assertEqual(info[1].split(", Main")[0], "Main AGENT_DATA continuation of a message begun before "
                         "the migration, bytes 0-2047 of the 51232 left")
        self.assertEqual(info[2].split(", Main")[0], "Main AGENT_DATA continuation of a message begun before "
                         "the migration, bytes 51200-51231 of the 51232 left")
        self.assertEqual(info[3].split(", Main")[0],
                         "Main AGENT_DATA FILE_XFER_DATA id 1, 65536 bytes, bytes 0-2047 of 65568")

    def test_video_stream(self):
        names = column(CAP, 'spicemig.msg.name contains "STREAM"', "spicemig.msg.name")
        self.assertEqual(names.count("STREAM_CREATE"), 1)
        self.assertEqual(names.count("STREAM_REPORT"), 9)

    def test_no_malformed(self):
        self.assertEqual(malformed(CAP), {})

    def test_no_spicemig_warning(self):
        # The write queue's three leading chunks (4128 bytes) all continue one
        # FILE_XFER_DATA begun before: not agent message headers.
        names = sorted({name for name, _ in experts(CAP) if name.startswith("spicemig.")})
        self.assertEqual([name for name in names if not name.startswith("spicemig.milestone.")],
                         ["spicemig.agent.unfinished"])
        self.assertEqual(column(CAP, "frame.number == 897", "spicemig.agent.queue_note")[:3],
                         ["continues an agent message whose start the source had already written to the agent"] * 3)

    def test_migration(self):
        rows = migrations_rows(tshark("-r", capture(CAP), "-2", "-q", "-z", "spicemig,migrations"))
        self.assertEqual([(r["Kind"], r["Outcome"], r["Source"], r["Destination"], r["Sent"], r["Forwarded"],
                           r["Missing"], r["Modified"], r["Unmatched"]) for r in rows],
                         [("seamless", "completed", "127.0.0.1:5910", "127.0.0.1:5912", "3", "3", "0", "0", "0")])


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
