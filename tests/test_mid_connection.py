"""Captures that start in the middle of the connections, as when capturing
starts just before a migration: no link messages, so header format,
direction and channel are inferred from the migration messages."""

import os
import subprocess
import tempfile
import unittest

import spicemig_tshark
from spicemig_tshark import column, count, fields


class CutCapture(unittest.TestCase):
    """A committed capture, cut to begin at its first SPICE_MSG_MIGRATE."""
    full = None

    @classmethod
    def setUpClass(cls):
        first_migrate = min(int(n) for n in column(cls.full, "spicemig.msg.type == 1", "frame.number"))
        cls.tmp = tempfile.TemporaryDirectory()
        # fields() looks captures up below SPICEMIG_CAPTURES; an absolute path wins in os.path.join.
        cls.name = os.path.join(cls.tmp.name, "cut-" + os.path.basename(cls.full))
        subprocess.run(["editcap", "-r", spicemig_tshark.capture(cls.full), cls.name,
                        "%d-1000000" % first_migrate], check=True, stdout=subprocess.DEVNULL)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()


class CutJustBeforeMigrate(CutCapture):
    """seamless-default, cut to begin at the first SPICE_MSG_MIGRATE."""
    full = "seamless-default.pcapng"

    def test_starts_without_link_messages(self):
        self.assertEqual(count(self.name, "spicemig.link.kind || spice.magic"), 0)

    def test_every_migrate_data_body_is_decoded(self):
        magics = column(self.name, "spicemig.magic", "spicemig.magic")
        self.assertEqual(sorted(magics), ["DCMD", "DCMD", "ICMD", "ICMD", "MNMD", "MNMD"])
        self.assertEqual(column(self.name, 'spicemig.magic == "DCMD"', "spicemig.display.message_serial"),
                         ["36", "36"])
        self.assertEqual(column(self.name, 'spicemig.magic == "DCMD"', "spicemig.display.glz_dict.last_image_id"),
                         ["26", "26"])
        self.assertEqual(column(self.name, 'spicemig.magic == "DCMD"', "spicemig.display.surface.id"), ["0", "0"])

    def test_channels_inferred_from_the_magic(self):
        self.assertEqual(sorted(column(self.name, "spicemig.magic", "spicemig.channel.type")),
                         ["1", "1", "2", "2", "3", "3"])

    def test_flush_marks_found_from_the_client(self):
        self.assertEqual(count(self.name, "spicemig.msg.type == 4 && spicemig.direction == 0"), 3)

    def test_other_messages_named_from_the_channel_tables(self):
        info = column(self.name, "spicemig && tcp.len > 0", "_ws.col.Info")
        for name in ("Display DRAW_COPY", "Display PONG", "Main PONG", "Inputs PONG", "Main MULTI_MEDIA_TIME"):
            self.assertTrue(any(name in line for line in info), name)

    def test_mid_connection_is_said(self):
        self.assertGreater(count(self.name, "spicemig.mid_connection"), 0)
        self.assertEqual(count(self.name, "_ws.malformed"), 0)


class CutFullHeaders(CutCapture):
    """Full 18-byte headers are inferred too (synthetic/full-header.pcap, cut)."""
    full = "synthetic/full-header.pcap"

    def test_migration_decoded_with_serials(self):
        rows = fields(self.name, "spicemig.msg.type", "spicemig.msg.type", "spicemig.msg.serial",
                      "spicemig.direction")
        # (type, serial, direction): the migration, then on the destination the
        # other messages too (MARK, PING, PONG), framed and named by spicemig.
        self.assertEqual([(r[0][0], r[1][0], r[2][0]) for r in rows],
                         [("1", "3", "1"), ("4", "2", "0"), ("2", "4", "1"), ("6", "5", "1"),
                          ("5", "1", "0"), ("5", "1", "1"), ("102", "2", "1"), ("4", "3", "1"),
                          ("3", "2", "0"), ("6", "3", "0")])
        self.assertEqual(column(self.name, "spicemig.magic", "spicemig.display.message_serial"), ["36", "36"])
        self.assertEqual(column(self.name, "spicemig.wait.count", "spicemig.wait.message_serial"), ["36", "12"])
        self.assertEqual(count(self.name, "_ws.malformed"), 0)


class SyntheticMidConnection(unittest.TestCase):
    cap = "synthetic/mid-connection.pcap"

    def test_migration_decoded(self):
        # 302 is the DRAW_FILL before the migration (named on the second pass).
        self.assertEqual(column(self.cap, "spicemig.msg.type", "spicemig.msg.type"), ["302", "1", "4", "2"])
        self.assertEqual(column(self.cap, "spicemig.magic", "spicemig.display.glz_dict.size"), ["6290432"])
        self.assertEqual(count(self.cap, "_ws.malformed"), 0)

    def test_message_before_the_migration_is_named_on_the_second_pass(self):
        # The DRAW_FILL in frame 1 is only known to be display traffic once
        # the DCMD body has named the channel.
        self.assertIn("Display DRAW_FILL", column(self.cap, "frame.number == 1", "_ws.col.Info")[0])


if __name__ == "__main__":
    unittest.main()
