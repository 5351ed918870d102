"""The plugin's public interface: the field names users filter on, its
preferences, and the ways it is attached to TCP (heuristic, Decode As)."""

import unittest

from spicemig_tshark import capture, heuristic_decodes, tshark

# Field names the issues name exactly.
PUBLIC_FIELDS = """
spicemig.msg.type spicemig.msg.size spicemig.msg.serial spicemig.channel.type spicemig.channel.id
spicemig.magic spicemig.version
spicemig.display.message_serial spicemig.display.low_bandwidth spicemig.display.pixmap_cache.id
spicemig.display.pixmap_cache.size spicemig.display.pixmap_cache.freezer spicemig.display.pixmap_cache.client
spicemig.display.glz_dict.id spicemig.display.glz_dict.size spicemig.display.glz_dict.max_encoders
spicemig.display.glz_dict.last_image_id spicemig.display.surfaces_ptr spicemig.display.surfaces.count
spicemig.display.surfaces.lossy spicemig.display.surface.id spicemig.display.surface.lossy_rect.left
spicemig.display.surface.lossy_rect.top spicemig.display.surface.lossy_rect.right
spicemig.display.surface.lossy_rect.bottom
spicemig.chardev.version spicemig.chardev.connected spicemig.chardev.num_client_tokens
spicemig.chardev.num_send_tokens spicemig.chardev.write_size spicemig.chardev.write_num_client_tokens
spicemig.chardev.write_data_ptr spicemig.chardev.write_data
spicemig.inputs.motion_count spicemig.smartcard.reader_added spicemig.smartcard.read_size
spicemig.smartcard.read_data_ptr spicemig.smartcard.read_data
spicemig.dst_info.port spicemig.dst_info.sport spicemig.dst_info.host spicemig.dst_info.cert_subject
spicemig.src_mig_version spicemig.migrate.flags
""".split()


class Registration(unittest.TestCase):
    def test_public_fields_exist_with_their_types(self):
        registered = {}
        for line in tshark("-G", "fields").splitlines():
            cells = line.split("\t")
            if cells[0] == "F" and cells[4] == "spicemig":
                registered[cells[2]] = cells[3]
        missing = [name for name in PUBLIC_FIELDS if name not in registered]
        self.assertEqual(missing, [])
        self.assertEqual(registered["spicemig.magic"], "FT_STRING")
        self.assertEqual(registered["spicemig.display.surfaces.lossy"], "FT_BOOLEAN")
        self.assertTrue(all(name.startswith("spicemig.") for name in registered))

    def test_listed_as_a_dissector_plugin(self):
        plugins = {cells[0].strip(): cells[2] for cells in
                   (line.split("\t") for line in tshark("-G", "plugins").splitlines())}
        self.assertEqual(plugins.get("spicemig.so"), "dissector")

    def test_preferences(self):
        prefs = tshark("-G", "currentprefs")
        self.assertIn("#spicemig.take_vnc_ports: TRUE", prefs)
        self.assertIn("#spicemig.surfaces_layout: Infer", prefs)

    def test_heuristic_tried_before_the_builtin_spice_one(self):
        tcp = heuristic_decodes("tcp")
        self.assertIn(("spicemig", True), tcp)
        self.assertLess(tcp.index(("spicemig", True)), tcp.index(("spice", True)))

    def test_decode_as_without_the_heuristic(self):
        args = ["-r", capture("seamless-default.pcapng"), "-2", "--disable-heuristic", "spicemig_tcp",
                "-Y", "spicemig.msg.type", "-T", "fields", "-e", "spicemig.msg.type"]
        self.assertEqual(tshark(*args).split(), [])
        decoded = tshark(*args, "-d", "tcp.port==5910,spicemig", "-d", "tcp.port==5912,spicemig")
        self.assertEqual(sorted(decoded.split()).count("2"), 3)   # MNMD, DCMD, ICMD from the source
        self.assertEqual(sorted(decoded.split()).count("5"), 3)   # and forwarded to the destination


if __name__ == "__main__":
    unittest.main()
