"""SPICE over TLS: the real TLS captures, decrypted with their key logs, decode
like their plain-text twins (test_migrate_data.py asserts the plain values);
without the key logs nothing claims the encrypted records.

tls-all-channels: every channel on the TLS port only. tls-mixed-ports: plain
and TLS ports, main and display secured, so the client's plain links of main
and display are refused with SPICE_LINK_ERR_NEED_SECURED and redone on TLS
(both captures: testcaptures/README.md)."""

import unittest

from spicemig_tshark import builtin_only, capture, column, count, experts, fields, heuristic_decodes, tshark

FORWARD_PROBLEMS = "spicemig.forward_modified || spicemig.forward_missing || spicemig.forward_unmatched"
ALL, ALL_KEYS = "tls-all-channels.pcapng", "tls-all-channels.keys"
MIXED, MIXED_KEYS = "tls-mixed-ports.pcapng", "tls-mixed-ports.keys"
VNC_PORTS, VNC_PORTS_KEYS = "tls-mixed-ports-5900.pcapng", "tls-mixed-ports-5900.keys"
PLAIN = "seamless-default.pcapng"
CAPTURES = ((ALL, ALL_KEYS), (MIXED, MIXED_KEYS))

DISPLAY_FIELDS = [
    "spicemig.msg.type", "spicemig.msg.size", "spicemig.version",
    "spicemig.display.message_serial", "spicemig.display.pixmap_cache.id",
    "spicemig.display.pixmap_cache.size", "spicemig.display.glz_dict.id",
    "spicemig.display.glz_dict.size", "spicemig.display.glz_dict.max_encoders",
    "spicemig.display.glz_dict.last_image_id", "spicemig.display.surfaces_ptr",
    "spicemig.display.surfaces.count", "spicemig.display.surfaces.lossy",
    "spicemig.display.surface.id",
]
# What the display state of a firmware-only guest is in every capture, plain
# or TLS; message serial and last GLZ image depend on how long it drew.
STATE_FIELDS = DISPLAY_FIELDS[1:3] + DISPLAY_FIELDS[4:9] + DISPLAY_FIELDS[10:]
STREAM_EXPERTS = ("spicemig.unsynced", "spicemig.builtin_lost", "spicemig.not_desegmented",
                  "spicemig.link.bad_size", "spicemig.mid_connection")


def display_bodies(capture_name, key_log=None):
    """{field: [value in the source's body, value in the forwarded copy]}"""
    rows = fields(capture_name, 'spicemig.magic == "DCMD"', *DISPLAY_FIELDS, key_log=key_log)
    return {name: [row[i][0] for row in rows] for i, name in enumerate(DISPLAY_FIELDS)}


class DecryptedLikePlain(unittest.TestCase):
    def test_display_bodies_have_the_plain_values(self):
        plain = display_bodies(PLAIN)
        for capture_name, key_log, serial, last_image in ((ALL, ALL_KEYS, "36", "26"),
                                                          (MIXED, MIXED_KEYS, "104", "90")):
            got = display_bodies(capture_name, key_log)
            self.assertEqual(got["spicemig.msg.type"], ["2", "5"], capture_name)
            self.assertEqual(got["spicemig.display.message_serial"], [serial] * 2, capture_name)
            self.assertEqual(got["spicemig.display.glz_dict.last_image_id"], [last_image] * 2, capture_name)
            self.assertEqual(got["spicemig.display.glz_dict.size"], ["6290432"] * 2, capture_name)
            self.assertEqual(got["spicemig.display.glz_dict.max_encoders"], ["4"] * 2, capture_name)
            self.assertEqual(got["spicemig.display.surfaces.count"], ["1"] * 2, capture_name)
            self.assertEqual(got["spicemig.display.surface.id"], ["0"] * 2, capture_name)
            for name in STATE_FIELDS:
                self.assertEqual(got[name], plain[name], (capture_name, name))

    def test_every_body_in_the_records_of_its_channel(self):
        def bodies(capture_name, key_log):
            rows = fields(capture_name, "spicemig.magic", "spicemig.magic", "spicemig.msg.type",
                          "tls.record.content_type", key_log=key_log)
            return sorted((row[0][0], row[1][0], "TLS" if row[2] else "plain") for row in rows)

        self.assertEqual(bodies(ALL, ALL_KEYS), sorted(
            (magic, msg_type, "TLS") for magic in ("DCMD", "ICMD", "MNMD") for msg_type in ("2", "5")))
        # inputs is not a secured channel in the mixed capture.
        self.assertEqual(bodies(MIXED, MIXED_KEYS), sorted(
            [(magic, msg_type, "TLS") for magic in ("DCMD", "MNMD") for msg_type in ("2", "5")]
            + [("ICMD", "2", "plain"), ("ICMD", "5", "plain")]))

    def test_migration_messages_as_in_the_plain_capture(self):
        def messages(capture_name, key_log=None):
            rows = fields(capture_name, "spicemig.msg.type", "spicemig.channel.type",
                          "spicemig.direction", "spicemig.msg.type", key_log=key_log)
            return sorted(tuple(cell[0] for cell in row) for row in rows)

        self.assertEqual(messages(ALL, ALL_KEYS), messages(PLAIN))
        # 17 migration messages, MAIN_INIT and INVAL_ALL_PIXMAPS (which spicemig decodes itself).
        self.assertEqual(len(messages(PLAIN)), 19)

    def test_destination_announced_with_its_tls_port(self):
        for capture_name, key_log, port in ((ALL, ALL_KEYS, "0"), (MIXED, MIXED_KEYS, "5912")):
            rows = fields(capture_name, "spicemig.dst_info.sport", "spicemig.dst_info.port",
                          "spicemig.dst_info.sport", "spicemig.dst_info.host",
                          "spicemig.dst_info.cert_subject", "spicemig.src_mig_version", key_log=key_log)
            self.assertEqual(rows, [[[port], ["5913"], ["127.0.0.1"], ["O=spicemig test,CN=127.0.0.1"],
                                     ["1"]]], capture_name)

    def test_link_phase_framed_inside_tls(self):
        # client link, auth selection, ticket, server link reply, link result
        for capture_name, key_log, connections in ((ALL, ALL_KEYS, 8), (MIXED, MIXED_KEYS, 4)):
            kinds = column(capture_name, "tls && spicemig.link.kind", "spicemig.link.kind", key_log=key_log)
            self.assertEqual(sorted(kinds), sorted(["0", "1", "2", "3", "4"] * connections), capture_name)

    def test_every_application_data_record_is_spice(self):
        for capture_name, key_log, frames in ((ALL, ALL_KEYS, 226), (MIXED, MIXED_KEYS, 146)):
            self.assertEqual(count(capture_name, "tls.record.content_type == 23", key_log=key_log), frames)
            # Each is SPICE or part of a message reassembled, and decoded, later.
            self.assertEqual(count(capture_name, "tls.record.content_type == 23 && !spice && !spicemig "
                                   "&& !tls.reassembled_in", key_log=key_log), 0, capture_name)
            self.assertEqual(count(capture_name, "data || _ws.malformed", key_log=key_log), 0, capture_name)

    def test_no_stream_complaints(self):
        for capture_name, key_log in CAPTURES:
            found = experts(capture_name, key_log)
            self.assertEqual([key for key in found if key[0] in STREAM_EXPERTS], [], capture_name)

    def test_one_pass_frames_as_two(self):
        one = fields(ALL, "spicemig", "frame.number", "spicemig.msg.type", "spicemig.link.kind",
                     key_log=ALL_KEYS, two_pass=False)
        two = fields(ALL, "spicemig", "frame.number", "spicemig.msg.type", "spicemig.link.kind",
                     key_log=ALL_KEYS)
        self.assertEqual(one, two)
        self.assertEqual(len(two), 158)


class AnalysisOverTls(unittest.TestCase):
    """Sessions, roles and forwarding work inside TLS as on plain TCP."""

    def test_bodies_forwarded_and_roles(self):
        rows = fields(ALL, "spicemig.magic", "frame.number", "spicemig.forwarded_from", "spicemig.forwarded_in",
                      "spicemig.role", "spicemig.session_id", key_log=ALL_KEYS)
        self.assertEqual([(row[0], row[1], row[2], row[3]) for row in rows], [
            (["380"], [], ["381"], ["source"]), (["381"], ["380"], [], ["destination"]),
            (["393"], [], ["401"], ["source"]), (["394"], [], ["395"], ["source"]),
            (["395"], ["394"], [], ["destination"]), (["401"], ["393"], [], ["destination"]),
        ])
        self.assertEqual({row[4][0] for row in rows}, {"0x4d454dcf"})
        self.assertEqual(count(ALL, FORWARD_PROBLEMS, key_log=ALL_KEYS), 0)

    def test_one_seamless_migration(self):
        self.assertEqual(
            fields(ALL, "spicemig.migration.begin", "spicemig.migration.kind", "spicemig.migration.source",
                   "spicemig.migration.destination", key_log=ALL_KEYS)[0],
            [["seamless"], ["127.0.0.1:5911"], ["127.0.0.1:5913"]])


class MixedPortsOneMigration(unittest.TestCase):
    """A server's plain and TLS channels are one server: the client's links
    retried on the TLS port after NEED_SECURED belong to the same source or
    destination, so the mixed captures hold one migration, every body
    forwarded."""

    def test_one_migration_all_bodies_forwarded(self):
        for name, keys, source, destination in ((MIXED, MIXED_KEYS, "127.0.0.1:5910", "127.0.0.1:5912"),
                                                (VNC_PORTS, VNC_PORTS_KEYS, "127.0.0.1:5900", "127.0.0.1:5902")):
            with self.subTest(capture=name):
                rows = fields(name, "spicemig.migration.id", "spicemig.migration.id", "spicemig.migration.outcome",
                              "spicemig.migration.source", "spicemig.migration.destination", key_log=keys)
                self.assertEqual({tuple(cell[0] for cell in row) for row in rows},
                                 {("1", "completed", source, destination)})
                self.assertEqual(count(name, "spicemig.forwarded_from", key_log=keys), 3)
                self.assertEqual(count(name, FORWARD_PROBLEMS, key_log=keys), 0)


class NeedSecured(unittest.TestCase):
    NOTE = ("The server accepts the %s channel only over TLS (SPICE_LINK_ERR_NEED_SECURED): "
            "the client reconnects on the TLS port")

    def test_note_names_the_channel(self):
        for key_log in (None, MIXED_KEYS):  # the refusal is on the plain port
            notes = {key: n for key, n in experts(MIXED, key_log).items()
                     if key[0] == "spicemig.link.need_secured"}
            self.assertEqual(notes, {("spicemig.link.need_secured", self.NOTE % "Main"): 2,
                                     ("spicemig.link.need_secured", self.NOTE % "Display"): 2})
        self.assertEqual(column(MIXED, "spicemig.link.need_secured", "tcp.srcport"),
                         ["5910", "5910", "5912", "5912"])

    def test_secured_reconnection_framed(self):
        links = fields(MIXED, "tls && spicemig.link.kind == 0", "tcp.dstport", "spicemig.channel.type",
                       key_log=MIXED_KEYS)
        # main, display on the source's TLS port, then on the destination's
        self.assertEqual([(row[0][0], row[1][0]) for row in links],
                         [("5911", "1"), ("5911", "2"), ("5913", "1"), ("5913", "2")])
        # The built-in decodes those link results (spicemig adds only the link phase).
        self.assertEqual(column(MIXED, "tls && spicemig.link.kind == 4", "spice.ticket_server",
                                key_log=MIXED_KEYS), ["0"] * 4)


class VncPorts(unittest.TestCase):
    """Source on 5900 (plain) and 5901 (TLS), libvirt's first ports, which
    Wireshark gives to VNC."""

    def test_tls_port_5901_not_taken_by_vnc(self):
        keys = ("-o", "tls.keylog_file:" + capture(VNC_PORTS_KEYS))
        self.assertEqual(len(builtin_only(VNC_PORTS, "-Y", "vnc && tcp.port == 5901", *keys).splitlines()), 150)
        self.assertEqual(count(VNC_PORTS, "vnc || data || _ws.malformed", key_log=VNC_PORTS_KEYS), 0)
        self.assertEqual(count(VNC_PORTS, "tls.record.content_type == 23 && !spice && !spicemig "
                               "&& !tls.reassembled_in", key_log=VNC_PORTS_KEYS), 0)

    def test_bodies_from_both_source_ports(self):
        rows = fields(VNC_PORTS, "spicemig.msg.type == 2", "tcp.srcport", "spicemig.magic",
                      key_log=VNC_PORTS_KEYS)
        self.assertEqual(sorted((row[0][0], row[1][0]) for row in rows),
                         [("5900", "ICMD"), ("5901", "DCMD"), ("5901", "MNMD")])
        self.assertEqual(column(VNC_PORTS, 'spicemig.magic == "DCMD"', "spicemig.display.glz_dict.size",
                                key_log=VNC_PORTS_KEYS), ["6290432"] * 2)


class SyntheticRecordLayouts(unittest.TestCase):
    """Record layouts real SPICE software does not write, with real TLS around
    synthetic SPICE (tools/make-synthetic-tls-captures)."""

    @staticmethod
    def decoded(name):
        """(TLS record lengths, built-in message types, spicemig message types) per frame."""
        rows = fields("synthetic/%s.pcap" % name, "spice.message_type || spicemig.msg.type",
                      "tls.record.length", "spice.message_type", "spicemig.msg.type",
                      key_log="synthetic/%s.keys" % name)
        return [tuple(tuple(cell) for cell in row) for row in rows]

    def test_several_messages_per_record(self):
        self.assertEqual(self.decoded("tls-several-per-record"), [
            (("53",), ("4", "4"), ()),   # PING, PING in one record
            (("53",), ("3", "3"), ()),   # PONG, PONG
            (("27",), (), ("1",)),       # MIGRATE
            (("23",), (), ("4",)),       # MIGRATE_FLUSH_MARK
            (("129",), ("4",), ("2",)),  # MIGRATE_DATA (DCMD) and PING in one record
            (("129",), ("3",), ("5",)),  # forwarded MIGRATE_DATA and PONG
        ])
        self.assertEqual(column("synthetic/tls-several-per-record.pcap", 'spicemig.magic == "DCMD"',
                                "spicemig.display.glz_dict.size",
                                key_log="synthetic/tls-several-per-record.keys"), ["6290432"] * 2)

    def test_message_over_records_and_segments(self):
        rows = fields("synthetic/tls-split-migrate-data.pcap", "spicemig.magic", "tls.segment.count",
                      "tls.reassembled.length", "spicemig.chardev.write_size", "spicemig.msg.type",
                      key_log="synthetic/tls-split-migrate-data.keys")
        # 20039 bytes from a 16 kB record and the next one, which also holds a PING (PONG).
        self.assertEqual(rows, [[["2"], ["20039"], ["20000"], ["2", "4"]], [["2"], ["20039"], ["20000"], ["5", "3"]]])
        # Each record over 1000-byte TCP segments: 17 and 5 of them, on each side.
        records = fields("synthetic/tls-split-migrate-data.pcap", "tls.record.length > 3000",
                         "tcp.segment.count", "tls.record.length", key_log="synthetic/tls-split-migrate-data.keys")
        self.assertEqual(records, [[["17"], ["16401"]], [["5"], ["3690"]]] * 2)

    def test_link_result_and_first_message_in_one_record(self):
        rows = fields("synthetic/tls-coalesced-link-result.pcap", "spicemig.link.kind == 4",
                      "tls.record.length", "spice.ticket_server", "spicemig.msg.type",
                      key_log="synthetic/tls-coalesced-link-result.keys")
        # 4-byte result (to the built-in), 35-byte PING (spicemig's: the built-in takes one link message a frame)
        self.assertEqual(rows, [[["39"], ["0"], ["4"]]])

    def test_nothing_left_over(self):
        for name in ("tls-several-per-record", "tls-split-migrate-data", "tls-coalesced-link-result"):
            self.assertEqual(count("synthetic/%s.pcap" % name, "_ws.malformed || data || spicemig.unsynced "
                                   "|| (tls.record.content_type == 23 && !spice && !spicemig "
                                   "&& !tls.reassembled_in)", key_log="synthetic/%s.keys" % name), 0, name)


class WithoutKeys(unittest.TestCase):
    def test_nothing_claims_the_encrypted_records(self):
        for capture_name, records in ((ALL, 265), (MIXED, 166)):
            self.assertEqual(count(capture_name, "tls.app_data"), records)
            self.assertEqual(count(capture_name, "tls && (spice || spicemig || data || _ws.malformed)"), 0)

    def test_plain_channels_still_decoded(self):
        self.assertEqual(column(MIXED, "spicemig.magic", "spicemig.magic"), ["ICMD", "ICMD"])
        self.assertEqual(count(ALL, "spicemig"), 0)


class Registration(unittest.TestCase):
    def test_heuristic_on_tls(self):
        self.assertIn(("spicemig", True), heuristic_decodes("tls"))

    def test_decode_as_tls_port_without_the_heuristic(self):
        off = ("--disable-heuristic", "spicemig_tls")
        self.assertEqual(count(ALL, "spicemig", key_log=ALL_KEYS, extra=off), 0)
        decode_as = off + ("-d", "tls.port==5911,spicemig", "-d", "tls.port==5913,spicemig")
        self.assertEqual(column(ALL, 'spicemig.magic == "DCMD"', "spicemig.display.glz_dict.size",
                                key_log=ALL_KEYS, extra=decode_as), ["6290432"] * 2)


if __name__ == "__main__":
    unittest.main()
