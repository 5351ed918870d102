"""Bounded work and no wrap-around (issue 9): every length, count and offset
of the link phase and of the message headers set to edge values, one
connection per value (tools/make-synthetic-captures edge-*). Each gets its
precise expert info, never a Malformed from spicemig, on one pass and two."""

import unittest

from spicemig_tshark import fields, malformed

SYN = "synthetic/"
# One connection of 13 frames per edge value: the client link is frame 4, the server's frame 5.
FRAMES_PER_CONNECTION = 13
LINK_SIZE_EDGES = [0, 1, 0x7FFFFFFF, 0xFFFFFFF0, 0xFFFFFFFF]


def experts_at(capture_name, expert, two_pass):
    """(frame, tcp stream, [expert messages]) of every frame with the expert info."""
    return [(int(frame[0]), int(stream[0]), messages)
            for frame, stream, messages in fields(SYN + capture_name, expert, "frame.number", "tcp.stream",
                                                  "_ws.expert.message", two_pass=two_pass)]


class Passes:
    """Runs each check on one pass and on two (tshark -2)."""

    def each_pass(self, check):
        for two_pass in (False, True):
            with self.subTest(two_pass=two_pass):
                check(two_pass)


class LinkSize(Passes, unittest.TestCase):
    def check_link_size(self, capture_name, first_frame, what, bounds):
        def check(two_pass):
            found = [(frame, stream, messages) for frame, stream, messages
                     in experts_at(capture_name, "spicemig.link.bad_size", two_pass)]
            expected = [(first_frame + FRAMES_PER_CONNECTION * i, i,
                         ["%s claims %d bytes (%s); not SPICE framing" % (what, 16 + size, bounds)])
                        for i, size in enumerate(LINK_SIZE_EDGES)]
            self.assertEqual(found, expected)
            self.assertEqual(malformed(SYN + capture_name, two_pass), {})
        self.each_pass(check)

    def test_client_link_size(self):
        # 0xfffffff0 + 16 is 4294967296, not 0: the wrap-around of issue 9.
        self.check_link_size("edge-client-link-size.pcap", 4, "Client link message", "34 to 4112")

    def test_server_link_size(self):
        self.check_link_size("edge-server-link-size.pcap", 5, "Server link reply", "194 to 4112")

    def test_other_direction_still_framed(self):
        def check(two_pass):
            # Client link lost: the server's link reply and link result are still decoded.
            kinds = fields(SYN + "edge-client-link-size.pcap", "spicemig.link.kind", "spicemig.link.kind",
                           two_pass=two_pass)
            self.assertEqual([k for row in kinds for k in row[0]], ["3", "4"] * len(LINK_SIZE_EDGES))
            # Server link lost: the client's link message is still decoded, with its channel
            # (spicemig's item of the frame; the link message's own field is the built-in's).
            rows = fields(SYN + "edge-server-link-size.pcap", "spicemig.link.kind == 0", "spicemig.channel.type",
                          "spice.channel_type", two_pass=two_pass)
            self.assertEqual(rows, [[["2"], ["2"]]] * len(LINK_SIZE_EDGES))
        self.each_pass(check)

    def test_rest_of_direction_unframed(self):
        # After the bad size nothing in that direction is read as a link message again.
        def check(two_pass):
            rows = fields(SYN + "edge-client-link-size.pcap", "tcp.srcport != 5930 && spicemig.undecoded",
                          "tcp.stream", two_pass=two_pass)
            self.assertEqual(sorted({int(row[0][0]) for row in rows}), list(range(len(LINK_SIZE_EDGES))))
            self.assertEqual(fields(SYN + "edge-client-link-size.pcap", "spicemig.link.kind == 0",
                                    "frame.number", two_pass=two_pass), [])
        self.each_pass(check)


class LinkCaps(Passes, unittest.TestCase):
    def test_caps_past_the_message(self):
        expected_claims = [
            "4294967295 common + 0 channel capability words at offset 18",
            "1 common + 4294967295 channel capability words at offset 18",
            "1 common + 0 channel capability words at offset 4294967280",   # 16 + this wraps to 0 in 32 bits
            "1 common + 0 channel capability words at offset 2147483647",
            "1 common + 0 channel capability words at offset 19",
        ]

        def check(two_pass):
            found = experts_at("edge-link-caps.pcap", "spicemig.link.bad_caps", two_pass)
            self.assertEqual([(frame, stream) for frame, stream, _ in found],
                             [(4 + FRAMES_PER_CONNECTION * i, i) for i in range(len(expected_claims))])
            for (_, _, messages), claim in zip(found, expected_claims):
                self.assertIn(claim + " run past the 38-byte link message", messages)
            # The built-in SPICE dissector, given these link messages, throws on
            # the first two counts and on the server's reply after each;
            # spicemig shows that on them and goes on framing.
            self.assertEqual(malformed(SYN + "edge-link-caps.pcap", two_pass), {"Spice": 4})
            kinds = fields(SYN + "edge-link-caps.pcap", "spicemig.link.kind == 4", "tcp.stream", two_pass=two_pass)
            self.assertEqual([int(row[0][0]) for row in kinds], list(range(len(expected_claims))))
        self.each_pass(check)


class MessageSize(Passes, unittest.TestCase):
    cap = "edge-msg-size.pcap"
    # MIGRATE claiming sizes 0, 1, 3, 5, 64 MiB, 64 MiB + 1, 0x7fffffff, 0xffffffff (streams 0-7).

    def test_sizes_beyond_the_cap(self):
        def check(two_pass):
            found = [(stream, messages) for _, stream, messages
                     in experts_at(self.cap, "spicemig.msg.bad_size", two_pass)]
            self.assertEqual(found, [
                # Sizes 1 and 5 misframe what follows: its bytes, read as a
                # header, claim sizes beyond the cap too (the size-5 frame also
                # has the migration milestone).
                (1, ["Unknown message claims a 1476395520-byte body, more than the 67108864 bytes of any "
                     "SPICE message; not SPICE framing",
                     "Unknown message claims a 1296253952-byte body, more than the 67108864 bytes of any "
                     "SPICE message; not SPICE framing"]),
                (3, ["1 trailing byte at offset 4 (the body accounts for 4 of its 5 bytes)",
                     "Migration 1: MIGRATE on the Display channel",
                     "Unknown message claims a 1140850688-byte body, more than the 67108864 bytes of any "
                     "SPICE message; not SPICE framing"]),
                (5, ["MIGRATE claims a 67108865-byte body, more than the 67108864 bytes of any SPICE message; "
                     "not SPICE framing"]),
                (6, ["MIGRATE claims a 2147483647-byte body, more than the 67108864 bytes of any SPICE message; "
                     "not SPICE framing"]),
                (7, ["MIGRATE claims a 4294967295-byte body, more than the 67108864 bytes of any SPICE message; "
                     "not SPICE framing"]),
            ])
            self.assertEqual(malformed(SYN + self.cap, two_pass), {})
        self.each_pass(check)

    def test_no_reassembly_beyond_the_cap(self):
        # Beyond the cap TCP is not asked to wait: the next segment's
        # MIGRATE_DATA is decoded. At exactly 64 MiB it is a message still
        # being reassembled when the capture ends.
        def check(two_pass):
            rows = fields(SYN + self.cap, 'spicemig.magic == "DCMD"', "tcp.stream", two_pass=two_pass)
            self.assertEqual([int(row[0][0]) for row in rows], [5, 6, 7])
        self.each_pass(check)

    def test_small_sizes(self):
        def check(two_pass):
            rows = fields(SYN + self.cap, "spicemig.msg.type == 1 && spicemig.direction == 1", "tcp.stream",
                          "spicemig.msg.size", two_pass=two_pass)
            self.assertEqual([(int(s[0]), int(z[0])) for s, z in rows][:4], [(0, 0), (1, 1), (2, 3), (3, 5)])
        self.each_pass(check)


if __name__ == "__main__":
    unittest.main()
