"""Migration control messages of the real captures: the main channel's
seamless handshake with its destination info, and MIGRATE with its flags."""

import unittest

from spicemig_tshark import capture, column, count, fields, key_log_options, tshark

CAP = "seamless-default.pcapng"


class BeginSeamless(unittest.TestCase):
    def test_destination_info(self):
        rows = fields(CAP, "spicemig.msg.type == 116", "spicemig.dst_info.port", "spicemig.dst_info.sport",
                      "spicemig.dst_info.host_size", "spicemig.dst_info.host_ptr",
                      "spicemig.dst_info.cert_subject_size", "spicemig.dst_info.cert_subject_ptr",
                      "spicemig.dst_info.host", "spicemig.src_mig_version", "spicemig.channel.type")
        self.assertEqual(rows, [[["5912"], ["65535"], ["10"], ["24"], ["0"], ["0"], ["127.0.0.1"], ["1"], ["1"]]])

    def test_info_column(self):
        info = column(CAP, "spicemig.msg.type == 116", "_ws.col.Info")
        self.assertEqual(len(info), 1)
        self.assertIn("Main MIGRATE_BEGIN_SEAMLESS to 127.0.0.1:5912 (src version 1)", info[0])

    def test_destination_handshake(self):
        self.assertEqual(column(CAP, "spicemig.msg.type == 110", "spicemig.src_mig_version"), ["1"])
        self.assertEqual(count(CAP, "spicemig.msg.type == 110 && tcp.dstport == 5912"), 1)
        self.assertEqual(count(CAP, "spicemig.msg.type == 117 && tcp.srcport == 5912"), 1)
        self.assertEqual(count(CAP, "spicemig.msg.type == 111 && tcp.dstport == 5910"), 1)


class NoPort(unittest.TestCase):
    """A DstInfo port of 65535 (QEMU's -1) or 0 is no port at all: shown as
    such, still filtered by its number."""

    def tree(self, capture_name, *options):
        return tshark("-r", capture(capture_name), "-2", *options, "-Y", "spicemig.msg.type == 116",
                      "-V", "-O", "spicemig")

    def test_no_tls_port(self):
        tree = self.tree(CAP)
        self.assertIn("\n        Destination port: 5912\n", tree)
        self.assertIn("\n        Destination TLS port: none (65535)\n", tree)
        self.assertEqual(count(CAP, "spicemig.dst_info.sport == 65535"), 1)

    def test_tls_only_destination(self):
        # Both servers with a tls-port only: the plain port is 0.
        name = "tls-all-channels.pcapng"
        keys = key_log_options("tls-all-channels.keys")
        tree = self.tree(name, *keys)
        self.assertIn("\n        Destination port: none (0)\n", tree)
        self.assertIn("\n        Destination TLS port: 5913\n", tree)
        self.assertEqual(column(name, "spicemig.msg.type == 116", "_ws.col.Info", key_log="tls-all-channels.keys"),
                         ["Main MIGRATE_BEGIN_SEAMLESS to 127.0.0.1, TLS port 5913 (src version 1)"])
        self.assertEqual(count(name, "spicemig.dst_info.port == 0", key_log="tls-all-channels.keys"), 1)


class MigrateFlags(unittest.TestCase):
    def test_flags_per_channel(self):
        rows = fields(CAP, "spicemig.msg.type == 1", "spicemig.channel.type", "spicemig.migrate.flags",
                      "spicemig.migrate.flags.need_flush", "spicemig.migrate.flags.need_data_transfer")
        got = sorted((r[0][0], r[1][0], r[2][0], r[3][0]) for r in rows)
        # Main, display and inputs flush and transfer data; the cursor has no state to move.
        self.assertEqual(got, [("1", "0x00000003", "1", "1"), ("2", "0x00000003", "1", "1"),
                               ("3", "0x00000003", "1", "1"), ("4", "0x00000000", "0", "0")])

    def test_flag_filters(self):
        self.assertEqual(count(CAP, "spicemig.migrate.flags.need_data_transfer == 1"), 3)
        self.assertEqual(count(CAP, "spicemig.migrate.unknown_flags"), 0)

    def test_info_column(self):
        info = column(CAP, "spicemig.msg.type == 1 && spicemig.channel.type == 2", "_ws.col.Info")
        self.assertEqual(len(info), 1)
        self.assertIn("Display MIGRATE flags NEED_FLUSH|NEED_DATA_TRANSFER", info[0])


if __name__ == "__main__":
    unittest.main()
