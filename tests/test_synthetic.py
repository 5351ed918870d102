"""Synthetic captures (tools/make-synthetic-captures) for what real software
will not easily produce: every value decoded exactly, and each malformed case
raising exactly its expert info, never a Malformed exception."""

import unittest

from spicemig_tshark import capture, column, count, experts, fields, tshark

SYN = "synthetic/"



def one(capture_name, name, display_filter=None):
    """The values of a field over all frames matching the filter (default: the field)."""
    return column(SYN + capture_name, display_filter or name, name)


class Smartcard(unittest.TestCase):
    def test_values_in_both_copies(self):
        cap = "smartcard.pcap"
        for name, value in (("spicemig.magic", "SCMD"), ("spicemig.version", "1"),
                            ("spicemig.chardev.version", "1"), ("spicemig.chardev.connected", "1"),
                            ("spicemig.chardev.num_client_tokens", "5"), ("spicemig.chardev.num_send_tokens", "7"),
                            ("spicemig.chardev.write_size", "6"), ("spicemig.chardev.write_num_client_tokens", "1"),
                            ("spicemig.chardev.write_data_ptr", "42"), ("spicemig.chardev.write_data", "010203040506"),
                            ("spicemig.smartcard.reader_added", "1"), ("spicemig.smartcard.read_size", "3"),
                            ("spicemig.smartcard.read_data_ptr", "48"), ("spicemig.smartcard.read_data", "616263"),
                            ("spicemig.msg.size", "51")):
            self.assertEqual(one(cap, name, "spicemig.magic"), [value, value], name)
        self.assertEqual(count(SYN + cap, "spicemig.channel.type == 8 && spicemig.msg.type == 1"), 1)


class MainAgentPartial(unittest.TestCase):
    cap = "main-agent-partial.pcap"

    def test_agent_state(self):
        for name, value in (("spicemig.chardev.connected", "1"), ("spicemig.chardev.num_client_tokens", "10"),
                            ("spicemig.chardev.write_size", "4"), ("spicemig.chardev.write_data_ptr", "65"),
                            ("spicemig.chardev.write_data", "5758595a"),
                            ("spicemig.main.client_agent_started", "1"),
                            ("spicemig.main.agent2client.chunk_header_size", "8"),
                            ("spicemig.main.agent2client.chunk_header.port", "1"),
                            ("spicemig.main.agent2client.chunk_header.size", "40"),
                            ("spicemig.main.agent2client.msg_header_done", "0"),
                            ("spicemig.main.agent2client.msg_header_partial_len", "12"),
                            ("spicemig.main.agent2client.msg_header_ptr", "69"),
                            ("spicemig.main.agent2client.msg_remaining", "28"),
                            ("spicemig.main.partial_msg.protocol", "1"),
                            ("spicemig.main.partial_msg.type", "7"),
                            ("spicemig.msg.size", "81")):
            self.assertEqual(one(self.cap, name, 'spicemig.magic == "MNMD"'), [value, value], name)
        # 12 bytes cover protocol, type and the low half of opaque: no size field.
        self.assertEqual(one(self.cap, "spicemig.main.partial_msg.size", 'spicemig.magic == "MNMD"'), [])

    def test_seamless_handshake(self):
        rows = fields(SYN + self.cap, "spicemig.msg.type == 116", "spicemig.dst_info.port",
                      "spicemig.dst_info.sport", "spicemig.dst_info.host", "spicemig.src_mig_version")
        self.assertEqual(rows, [[["5932"], ["65535"], ["127.0.0.1"], ["1"]]])
        self.assertEqual(one(self.cap, "spicemig.src_mig_version", "spicemig.msg.type == 110"), ["1"])
        self.assertEqual(count(SYN + self.cap, "spicemig.msg.type == 117 && spicemig.direction == 1"), 1)
        self.assertEqual(count(SYN + self.cap, "spicemig.msg.type == 111 && spicemig.direction == 0"), 1)


class FullHeader(unittest.TestCase):
    cap = "full-header.pcap"

    def test_serials_and_display_body(self):
        self.assertEqual(one(self.cap, "spicemig.msg.serial", "spicemig.msg.type && spicemig.direction == 1"
                             " && tcp.srcport == 5930"), ["3", "4", "5"])
        self.assertEqual(one(self.cap, "spicemig.display.message_serial"), ["36", "36"])
        self.assertEqual(one(self.cap, "spicemig.display.surface.id"), ["0", "0"])

    def test_wait_for_channels_and_disconnecting(self):
        self.assertEqual(one(self.cap, "spicemig.wait.count"), ["2"])
        self.assertEqual(one(self.cap, "spicemig.wait.channel_type"), ["2", "4"])
        self.assertEqual(one(self.cap, "spicemig.wait.message_serial"), ["36", "12"])
        self.assertEqual(one(self.cap, "spicemig.disconnecting.time_stamp"), ["123456789", "987654321"])
        self.assertEqual(one(self.cap, "spicemig.disconnecting.reason"), ["0", "0"])

    def test_builtin_still_decodes_the_rest(self):
        # PING and PONG before the migration on the source, after it on the destination.
        self.assertEqual(column(SYN + self.cap, "spice.ping_id", "frame.number"), ["10", "11", "30", "31"])


class Surfaces(unittest.TestCase):
    def test_three_lossless(self):
        self.assertEqual(one("surfaces-lossless.pcap", "spicemig.display.surface.id"), ["0", "1", "5"] * 2)
        self.assertEqual(one("surfaces-lossless.pcap", "spicemig.display.surfaces.lossy"), ["0", "0"])
        self.assertEqual(one("surfaces-lossless.pcap", "spicemig.display.surfaces.count"), ["3", "3"])

    def test_two_lossy(self):
        cap = "surfaces-lossy.pcap"
        self.assertEqual(one(cap, "spicemig.display.surfaces.lossy"), ["1", "1"])
        self.assertEqual(one(cap, "spicemig.display.surface.id"), ["0", "7"] * 2)
        self.assertEqual(one(cap, "spicemig.display.surface.lossy_rect.right"), ["1024", "30"] * 2)
        self.assertEqual(one(cap, "spicemig.display.surface.lossy_rect.bottom"), ["768", "40"] * 2)

    def test_preference_forces_the_layout(self):
        rows = column(SYN + "surfaces-lossy.pcap", "spicemig.display.surfaces.lossy",
                      "spicemig.display.surfaces.lossy")
        self.assertEqual(rows, ["1", "1"])
        out = tshark("-r", capture(SYN + "surfaces-lossy.pcap"), "-o", "spicemig.surfaces_layout:Lossless",
                     "-Y", "spicemig.display.surfaces.lossy == 0", "-T", "fields",
                     "-e", "spicemig.display.surfaces.count")
        self.assertEqual(out.split(), ["2", "2"])


class SplitMigrateData(unittest.TestCase):
    cap = "split-migrate-data.pcap"

    def test_reassembled_and_followed_by_ping(self):
        self.assertEqual(one(self.cap, "spicemig.chardev.write_size"), ["20000", "20000"])
        # The last segment ends the migrate data and holds a whole PING (and
        # PONG); on a usbredir channel spicemig decodes both itself.
        self.assertEqual(one(self.cap, "spicemig.msg.size", "spicemig.magic"), ["20033", "12", "20033", "12"])
        self.assertEqual(one(self.cap, "spicemig.msg.type", "spicemig.magic"), ["2", "4", "5", "3"])
        self.assertEqual(count(SYN + self.cap, "_ws.malformed || tcp.analysis.flags"), 0)


class CoalescedLinkPhase(unittest.TestCase):
    """The built-in SPICE dissector records its state once per frame, so only
    the first link-phase message of a frame can be handed to it."""

    def test_link_result_with_first_message(self):
        cap = SYN + "coalesced-link-result.pcap"
        # Frame 8: the link result goes to the built-in, the PING in the same
        # segment is shown by spicemig; the next PING is the built-in's again.
        self.assertEqual(column(cap, "frame.number == 8", "_ws.col.Info"), ["Display LINK_RESULT, Display PING"])
        self.assertEqual(column(cap, "spicemig.msg.type == 4 && spicemig.direction == 1", "frame.number"), ["8"])
        self.assertEqual(column(cap, "spice.ping_id", "frame.number"), ["9", "10", "11"])
        self.assertEqual(count(cap, "spicemig.builtin_lost || _ws.malformed"), 0)

    def test_ticket_with_auth_mechanism(self):
        cap = SYN + "coalesced-ticket.pcap"
        lost = experts(cap)
        self.assertEqual(sum(n for (name, _), n in lost.items() if name == "spicemig.builtin_lost"), 1)
        self.assertEqual(column(cap, "spicemig.builtin_lost", "frame.number"), ["6"])
        # From the ticket on, nothing reaches the built-in; spicemig names all.
        self.assertEqual(count(cap, "frame.number > 6 && spice"), 0)
        self.assertEqual(column(cap, "frame.number >= 7 && tcp.len > 0", "_ws.col.Info"),
                         ["Display LINK_RESULT", "Display PING", "Display PONG",
                          "Display MIGRATE flags NEED_FLUSH|NEED_DATA_TRANSFER", "Display MIGRATE_FLUSH_MARK",
                          "Display MIGRATE_DATA source\u2192client DCMD v1: 1 surface, GLZ window 6290432"])


class Sasl(unittest.TestCase):
    cap = SYN + "sasl.pcap"

    def test_sasl_segments_go_to_the_builtin(self):
        # The built-in decodes the selection; spicemig names the link phase.
        self.assertEqual(column(self.cap, "spicemig.link.kind == 1", "spice.auth_select_client"), ["2"])
        self.assertEqual(column(self.cap, "spicemig.sasl", "frame.number"), ["7", "8", "9", "10"])
        self.assertEqual(count(self.cap, "spicemig.sasl && !spice"), 0)
        self.assertEqual(count(self.cap, "tcp.len>0 && !spice"), 0)
        self.assertEqual(count(self.cap, "_ws.malformed"), 0)


class Malformed(unittest.TestCase):
    """Each malformed capture raises exactly its expert info (once per copy of
    the body it concerns) and nothing else, with no Malformed."""

    def check(self, name, expert, message):
        cap = SYN + "malformed-%s.pcap" % name
        self.assertEqual(count(cap, "_ws.malformed"), 0)
        # The migration's timeline (Chat-level spicemig.milestone.*) is test_checks' concern.
        spicemig_experts = {key: n for key, n in experts(cap).items()
                            if key[0].startswith("spicemig.") and not key[0].startswith("spicemig.milestone.")}
        self.assertEqual(spicemig_experts, {(expert, message): 1})
        return cap

    def test_unknown_magic(self):
        self.check("unknown-magic", "spicemig.unknown_magic",
                   "Unknown migrate-data magic \"XXMD\" (0x444d5858): not MNMD, DCMD, ICMD, SCMD or SVMD")
        self.assertEqual(one("malformed-unknown-magic.pcap", "spicemig.magic"), ["XXMD"])

    def test_unsupported_version(self):
        self.check("unsupported-version", "spicemig.unsupported_version",
                   "ICMD version 2 is not one spice-server 0.15.1 accepts (1 to 1)")

    def test_truncated_fixed_part(self):
        self.check("truncated-fixed", "spicemig.truncated",
                   "DCMD body is 50 bytes, shorter than its 80-byte fixed part")
        # What is there is still decoded.
        self.assertEqual(one("malformed-truncated-fixed.pcap", "spicemig.display.message_serial"), ["36"])

    def test_truncated_count(self):
        self.check("truncated-count", "spicemig.truncated",
                   "Number of surfaces 100 x 4 bytes at offset 84 runs past the 88-byte body")
        self.assertEqual(one("malformed-truncated-count.pcap", "spicemig.display.surfaces.count"), ["100"])
        self.assertEqual(one("malformed-truncated-count.pcap", "spicemig.display.surface.id"), ["0"])

    def test_pointer_out_of_bounds(self):
        self.check("pointer-out-of-bounds", "spicemig.pointer_out_of_bounds",
                   "Surfaces list offset 5000 + 4 bytes runs past the 88-byte body")
        # The rest of the body is still decoded.
        self.assertEqual(one("malformed-pointer-out-of-bounds.pcap", "spicemig.display.glz_dict.size"), ["6290432"])

    def test_pointer_into_fixed_part(self):
        self.check("pointer-into-fixed-part", "spicemig.pointer_into_fixed_part",
                   "Write data offset 12 points into the 33-byte fixed part")
        self.assertEqual(one("malformed-pointer-into-fixed-part.pcap", "spicemig.chardev.write_data_ptr"), ["12"])

    def test_surface_id_out_of_range(self):
        self.check("surface-id-out-of-range", "spicemig.surface_id_out_of_range",
                   "Surface id 2000 is out of range: the destination server has surfaces 0 to 1023")
        self.assertEqual(one("malformed-surface-id-out-of-range.pcap", "spicemig.display.surface.id"), ["2000"])

    def test_trailing_data(self):
        self.check("trailing-data", "spicemig.trailing_data",
                   "7 trailing bytes at offset 10 (the body accounts for 10 of its 17 bytes)")

    def test_chunk_header_size(self):
        self.check("chunk-header-size", "spicemig.main.chunk_header_size_too_large",
                   "Chunk header bytes read 12 is larger than the 8-byte VDIChunkHeader")

    def test_partial_header_too_long(self):
        self.check("partial-header-too-long", "spicemig.main.partial_header_too_long",
                   "Partial header length 24 is not shorter than the 20-byte VDAgentMessage header")

    def test_chardev_version(self):
        self.check("chardev-version", "spicemig.chardev.unsupported_version",
                   "Char device version 2 is newer than version 1, the newest spice-server 0.15.1 accepts")

    def test_magic_channel_mismatch(self):
        self.check("magic-channel-mismatch", "spicemig.magic_channel_mismatch",
                   "DCMD is Display migrate data, but this is the Inputs channel")

    def test_surfaces_ambiguous(self):
        self.check("surfaces-ambiguous", "spicemig.display.surfaces_layout_ambiguous",
                   "Cannot tell lossless from lossy surfaces (ambiguous: an empty list looks the same in both layouts; read as lossless); set the Surfaces list layout preference to choose")
        self.assertEqual(one("malformed-surfaces-ambiguous.pcap", "spicemig.display.surfaces.count"), ["0"])

    def test_migrate_unknown_flags(self):
        self.check("migrate-unknown-flags", "spicemig.migrate.unknown_flags",
                   "MIGRATE flags 0x0000000c have bits 0x0000000c outside NEED_FLUSH|NEED_DATA_TRANSFER")
        self.assertEqual(one("malformed-migrate-unknown-flags.pcap", "spicemig.migrate.flags"), ["0x0000000c"])

    def test_dst_info_bad_host_ptr(self):
        self.check("dst-info-bad-host-ptr", "spicemig.pointer_out_of_bounds",
                   "Destination host offset 200 + 10 bytes runs past the 34-byte body")
        self.assertEqual(one("malformed-dst-info-bad-host-ptr.pcap", "spicemig.dst_info.port"), ["5932"])
        self.assertEqual(one("malformed-dst-info-bad-host-ptr.pcap", "spicemig.src_mig_version",
                             "spicemig.msg.type == 116"), ["1"])


if __name__ == "__main__":
    unittest.main()
