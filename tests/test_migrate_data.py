"""Migrate-data bodies of the real captures, decoded field by field. Each body
appears twice: sent by the source server (SPICE_MSG_MIGRATE_DATA) and
forwarded unchanged by the client to the destination (SPICE_MSGC_MIGRATE_DATA),
so every value is asserted for both copies."""

import unittest

from spicemig_tshark import capture, column, count, fields, tshark

DISPLAY_FIELDS = [
    "spicemig.version", "spicemig.display.message_serial", "spicemig.display.low_bandwidth",
    "spicemig.display.pixmap_cache.id", "spicemig.display.pixmap_cache.size",
    "spicemig.display.pixmap_cache.freezer", "spicemig.display.glz_dict.id",
    "spicemig.display.glz_dict.size", "spicemig.display.glz_dict.max_encoders",
    "spicemig.display.glz_dict.last_image_id", "spicemig.display.surfaces_ptr",
    "spicemig.display.surfaces.count", "spicemig.display.surfaces.lossy",
    "spicemig.display.surface.id",
]
CHARDEV_FIELDS = [
    "spicemig.chardev.version", "spicemig.chardev.connected", "spicemig.chardev.num_client_tokens",
    "spicemig.chardev.num_send_tokens", "spicemig.chardev.write_size",
    "spicemig.chardev.write_num_client_tokens", "spicemig.chardev.write_data_ptr",
]
MAIN_FIELDS = [
    "spicemig.main.client_agent_started", "spicemig.main.agent2client.chunk_header_size",
    "spicemig.main.agent2client.chunk_header.port", "spicemig.main.agent2client.chunk_header.size",
    "spicemig.main.agent2client.msg_header_done", "spicemig.main.agent2client.msg_header_partial_len",
    "spicemig.main.agent2client.msg_header_ptr", "spicemig.main.agent2client.msg_remaining",
    "spicemig.main.agent2client.msg_filter_result", "spicemig.main.client2agent.msg_remaining",
    "spicemig.main.client2agent.msg_filter_result",
]


def values(capture_name, magic, names):
    """{field: [value in the source's copy, value in the forwarded copy]}"""
    rows = fields(capture_name, 'spicemig.magic == "%s"' % magic, "spicemig.msg.type", *names)
    result = {name: [] for name in names}
    for row in rows:
        for name, cell in zip(names, row[1:]):
            result[name].append(cell[0] if len(cell) == 1 else cell)
    return result, [row[0][0] for row in rows]


class RealDisplay(unittest.TestCase):
    def test_default_display_values(self):
        got, types = values("seamless-default.pcapng", "DCMD", DISPLAY_FIELDS)
        self.assertEqual(types, ["2", "5"])  # server MIGRATE_DATA, then client MIGRATE_DATA
        expected = {
            "spicemig.version": "1", "spicemig.display.message_serial": "36",
            "spicemig.display.low_bandwidth": "0", "spicemig.display.pixmap_cache.id": "1",
            "spicemig.display.pixmap_cache.size": "20971520",
            "spicemig.display.pixmap_cache.freezer": "1", "spicemig.display.glz_dict.id": "1",
            "spicemig.display.glz_dict.size": "6290432", "spicemig.display.glz_dict.max_encoders": "4",
            "spicemig.display.glz_dict.last_image_id": "26", "spicemig.display.surfaces_ptr": "80",
            "spicemig.display.surfaces.count": "1", "spicemig.display.surfaces.lossy": "0",
            "spicemig.display.surface.id": "0",
        }
        self.assertEqual(got, {name: [value, value] for name, value in expected.items()})

    def test_pixmap_cache_size_is_in_pixels(self):
        # spice-gtk asks for its byte budget / 4 in DISPLAY_INIT; spice-server
        # charges width x height per image: the size counts pixels.
        tree = tshark("-r", capture("seamless-default.pcapng"), "-2", "-Y", 'spicemig.magic == "DCMD"',
                      "-V", "-O", "spicemig")
        self.assertEqual(tree.count("\n            Pixmap cache size: 20971520 pixels\n"), 2)
        self.assertNotIn("20971520 bytes", tree)

    def test_pixmap_cache_clients_are_four_zero_slots(self):
        self.assertEqual(column("seamless-default.pcapng", 'spicemig.magic == "DCMD"',
                                "spicemig.display.pixmap_cache.client"), ["0"] * 8)

    def test_jpeg_wan_surface_is_lossy_with_empty_rect(self):
        got, _ = values("seamless-jpeg-wan.pcapng", "DCMD", [
            "spicemig.display.surfaces.lossy", "spicemig.display.surface.id",
            "spicemig.display.surface.lossy_rect.left", "spicemig.display.surface.lossy_rect.top",
            "spicemig.display.surface.lossy_rect.right", "spicemig.display.surface.lossy_rect.bottom",
            "spicemig.msg.size"])
        self.assertEqual(got["spicemig.display.surfaces.lossy"], ["1", "1"])
        self.assertEqual(got["spicemig.msg.size"], ["104", "104"])
        for name in ("id", "lossy_rect.left", "lossy_rect.top", "lossy_rect.right", "lossy_rect.bottom"):
            self.assertEqual(got["spicemig.display.surface." + name], ["0", "0"], name)

    def test_glz_filter_finds_both_copies(self):
        self.assertEqual(count("seamless-default.pcapng", "spicemig.display.glz_dict.size > 0"), 2)
        self.assertEqual(count("seamless-default.pcapng", "spicemig.display.glz_dict.size > 6290432"), 0)

    def test_info_column(self):
        info = column("seamless-default.pcapng", 'spicemig.magic == "DCMD"', "_ws.col.Info")
        self.assertEqual(len(info), 2)
        # The source's body, then the client's forwarded copy, each with its hop.
        self.assertIn("Display MIGRATE_DATA source\u2192client DCMD v1: 1 surface, GLZ window 6290432", info[0])
        self.assertIn("Display MIGRATE_DATA client\u2192destination DCMD v1: 1 surface, GLZ window 6290432",
                      info[1])

    def test_no_pointer_or_layout_complaints(self):
        for capture_name in ("seamless-default.pcapng", "seamless-jpeg-wan.pcapng",
                             "seamless-extra-channels.pcapng"):
            self.assertEqual(count(capture_name, "spicemig.pointer_out_of_bounds || "
                                   "spicemig.pointer_into_fixed_part || spicemig.truncated || "
                                   "spicemig.trailing_data || spicemig.display.surfaces_layout_ambiguous"),
                             0, capture_name)


class RealOtherKinds(unittest.TestCase):
    def test_inputs(self):
        got, types = values("seamless-default.pcapng", "ICMD", ["spicemig.version", "spicemig.inputs.motion_count"])
        self.assertEqual(types, ["2", "5"])
        self.assertEqual(got, {"spicemig.version": ["1", "1"], "spicemig.inputs.motion_count": ["0", "0"]})

    def test_main_without_agent(self):
        got, types = values("seamless-default.pcapng", "MNMD", ["spicemig.version"] + CHARDEV_FIELDS + MAIN_FIELDS)
        self.assertEqual(types, ["2", "5"])
        expected = {name: ["0", "0"] for name in CHARDEV_FIELDS + MAIN_FIELDS}
        expected["spicemig.version"] = ["1", "1"]
        expected["spicemig.chardev.version"] = ["1", "1"]
        self.assertEqual(got, expected)

    def test_spicevmc_channels(self):
        got, types = values("seamless-extra-channels.pcapng", "SVMD", ["spicemig.channel.type"] + CHARDEV_FIELDS)
        self.assertEqual(sorted(got["spicemig.channel.type"]), ["10", "10", "11", "11", "9", "9"])
        self.assertEqual(sorted(types), ["2"] * 3 + ["5"] * 3)
        for name, value in (("spicemig.chardev.version", "1"), ("spicemig.chardev.connected", "1"),
                            ("spicemig.chardev.num_client_tokens", "4294967295"),
                            ("spicemig.chardev.num_send_tokens", "4294967295"),
                            ("spicemig.chardev.write_size", "0"),
                            ("spicemig.chardev.write_num_client_tokens", "0"),
                            ("spicemig.chardev.write_data_ptr", "0")):
            self.assertEqual(got[name], [value] * 6, name)

    def test_unlimited_tokens_are_named(self):
        # spice-server gives a device without flow control ~0 tokens.
        tree = tshark("-r", capture("seamless-extra-channels.pcapng"), "-2", "-Y",
                      'spicemig.magic == "SVMD" || spicemig.magic == "MNMD"', "-V", "-O", "spicemig")
        self.assertEqual(tree.count("\n            Char device client tokens: unlimited (4294967295)\n"), 6)
        self.assertEqual(tree.count("\n            Char device send tokens: unlimited (4294967295)\n"), 6)
        # The main channel's agent device, disconnected: plain counts.
        self.assertEqual(tree.count("\n            Char device client tokens: 0\n"), 2)
        self.assertEqual(tree.count("\n            Char device write client tokens: 0\n"), 8)

    def test_magic_filter(self):
        self.assertEqual(column("seamless-extra-channels.pcapng", "spicemig.magic", "spicemig.magic").count("SVMD"), 6)
        self.assertEqual(count("seamless-default.pcapng", 'spicemig.magic == "DCMD"'), 2)


if __name__ == "__main__":
    unittest.main()
