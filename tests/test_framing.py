"""Stream framing on the real migration captures (QEMU 7.2 + spice-server
0.15.1 + spice-gtk 0.42): every payload byte dissected, every migration
message framed once with the right type and size, the built-in SPICE
decoding kept for the rest, also after the migration."""

import collections
import unittest

from spicemig_tshark import ANY_EXPERT, builtin_only, column, count, fields

# (channel type, from server, message type, body size) of every message
# spicemig decodes itself in a default seamless migration.
MAIN, DISPLAY, INPUTS, CURSOR, USBREDIR, PORT, WEBDAV = 1, 2, 3, 4, 9, 10, 11
DEFAULT_MIGRATION = [
    (MAIN, 1, 116, 34),     # MIGRATE_BEGIN_SEAMLESS, source
    (MAIN, 0, 110, 4),      # MIGRATE_DST_DO_SEAMLESS, destination
    (MAIN, 1, 117, 0),      # MIGRATE_DST_SEAMLESS_ACK, destination
    (MAIN, 0, 111, 0),      # MIGRATE_CONNECTED_SEAMLESS, source
    (MAIN, 1, 1, 4), (DISPLAY, 1, 1, 4), (INPUTS, 1, 1, 4), (CURSOR, 1, 1, 4),   # MIGRATE
    (MAIN, 0, 4, 0), (DISPLAY, 0, 4, 0), (INPUTS, 0, 4, 0),                      # FLUSH_MARK
    (MAIN, 1, 2, 65), (DISPLAY, 1, 2, 88), (INPUTS, 1, 2, 10),                   # MIGRATE_DATA
    (MAIN, 0, 5, 65), (DISPLAY, 0, 5, 88), (INPUTS, 0, 5, 10),                   # forwarded
]
# Messages the built-in SPICE dissector gets wrong, decoded by spicemig instead.
REPLACED = [
    (MAIN, 1, 103, 32),     # MAIN_INIT (the built-in byte-swaps the session id)
    (DISPLAY, 1, 106, 1),   # INVAL_ALL_PIXMAPS on the destination (a false "not fully dissected")
]
MIGRATE_DATA_MAGICS = {"MNMD": "4d4e4d44", "DCMD": "44434d44", "ICMD": "49434d44",
                       "SCMD": "53434d44", "SVMD": "53564d44"}


class RealMigrationFraming:
    capture_name = None
    expected_messages = DEFAULT_MIGRATION
    spicevmc_messages = []
    src_port, dst_port = 5910, 5912

    def test_no_payload_left_undissected(self):
        # Genuine retransmissions (the same bytes again) are never handed to
        # subdissectors by TCP; test_retransmissions_are_genuine covers them.
        self.assertEqual(count(self.capture_name, "tcp.len>0 && !spice && !spicemig && "
                               "!tcp.reassembled_in && !tcp.analysis.retransmission"), 0)

    def test_retransmissions_are_genuine(self):
        # A wrong desegmentation request shows up as extra retransmission marks.
        without = builtin_only(self.capture_name, "-2", "-Y", "tcp.analysis.retransmission",
                               "-T", "fields", "-e", "frame.number").split()
        with_plugin = column(self.capture_name, "tcp.analysis.retransmission", "frame.number")
        self.assertEqual(with_plugin, without)

    def test_nothing_malformed(self):
        self.assertEqual(count(self.capture_name, "_ws.malformed"), 0)
        self.assertEqual(count(self.capture_name, ANY_EXPERT), 0)

    def test_each_migration_message_framed_once(self):
        rows = fields(self.capture_name, "spicemig.msg.type", "spicemig.channel.type",
                      "spicemig.direction", "spicemig.msg.type", "spicemig.msg.size")
        seen = collections.Counter()
        for channel, direction, types, sizes in rows:
            for msg_type, size in zip(types, sizes):
                seen[(int(channel[0]), int(direction[0]), int(msg_type), int(size))] += 1
        self.assertEqual(seen, collections.Counter(self.expected_messages + REPLACED + self.spicevmc_messages))

    def test_every_migrate_data_body_in_the_bytes_is_decoded(self):
        # Independent of our framing: count the magics in the raw payload.
        payloads = builtin_only(self.capture_name, "-Y", "tcp.len>0 && !tcp.analysis.retransmission",
                                "-T", "fields", "-e", "tcp.payload").replace(":", "")
        in_bytes = sum(payloads.count(hex_magic) for hex_magic in MIGRATE_DATA_MAGICS.values())
        framed = [t for t in column(self.capture_name, "spicemig.msg.type", "spicemig.msg.type")
                  if t in ("2", "5")]
        self.assertEqual(len(framed), in_bytes)
        self.assertEqual(in_bytes, sum(1 for m in self.expected_messages if m[2] in (2, 5)))

    def test_destination_traffic_after_migration_is_dissected(self):
        last_migrate_data = max(int(n) for n in column(
            self.capture_name, "spicemig.msg.type == 5", "frame.number"))
        after = "frame.number > %d && tcp.port == %d" % (last_migrate_data, self.dst_port)
        # Client PONGs and server display draws, decoded by the built-in.
        self.assertGreater(count(self.capture_name, after + " && spice.message_type == 3"
                                 " && tcp.dstport == %d" % self.dst_port), 0)
        self.assertGreater(count(self.capture_name, after + " && spice.display_rop_descriptor"), 0)
        # The spicevmc channels, which the built-in does not know, are spicemig's alone.
        self.assertEqual(count(self.capture_name, after + " && tcp.len>0 && !(spice || spicemig.msg.type)"
                               " && !tcp.analysis.retransmission"), 0)

    def test_builtin_decoding_kept_before_migration(self):
        # DRAW_COPY (304) on the source display channel, decoded by the built-in.
        self.assertGreater(count(self.capture_name, "tcp.srcport == %d && spice.message_type == 304"
                                 " && spice.display_rop_descriptor" % self.src_port), 0)


class SeamlessDefault(RealMigrationFraming, unittest.TestCase):
    capture_name = "seamless-default.pcapng"


class SeamlessJpegWan(RealMigrationFraming, unittest.TestCase):
    capture_name = "seamless-jpeg-wan.pcapng"
    expected_messages = [(c, d, t, 104 if (c, t) in ((DISPLAY, 2), (DISPLAY, 5)) else s)
                         for c, d, t, s in DEFAULT_MIGRATION]


class SeamlessExtraChannels(RealMigrationFraming, unittest.TestCase):
    capture_name = "seamless-extra-channels.pcapng"
    expected_messages = DEFAULT_MIGRATION + [
        (channel, from_server, msg_type, size)
        for channel in (USBREDIR, PORT, WEBDAV)
        for from_server, msg_type, size in ((1, 1, 4), (0, 4, 0), (1, 2, 33), (0, 5, 33))]
    # The built-in flags the spicevmc channels' link replies "Unknown channel":
    # spicemig decodes these connections alone. PING and PONG on source and
    # destination, usbredir's SPICEVMC_DATA, port and webdav's PORT_INIT.
    spicevmc_messages = [
        (channel, from_server, msg_type, 12)
        for channel in (USBREDIR, PORT, WEBDAV)
        for from_server, msg_type in ((1, 4), (0, 3))
        for _ in range(4)] + [(USBREDIR, 1, 101, 80)] + [(PORT, 1, 201, 26)] * 2 + [(WEBDAV, 1, 201, 34)] * 2


if __name__ == "__main__":
    unittest.main()
