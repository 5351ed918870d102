"""TCP ports 5900-5901, the QEMU/libvirt defaults that Wireshark gives to VNC:
SPICE there is decoded as SPICE, a real VNC session still as VNC, and a
preference gives the ports back to VNC."""

import unittest

from spicemig_tshark import builtin_only, capture, count, tshark
from test_framing import RealMigrationFraming


class SeamlessOnPorts5900(RealMigrationFraming, unittest.TestCase):
    capture_name = "seamless-ports-5900.pcapng"
    src_port, dst_port = 5900, 5901

    def test_nothing_left_to_vnc(self):
        self.assertEqual(count(self.capture_name, "vnc"), 0)

    def test_preference_gives_the_ports_back_to_vnc(self):
        out = tshark("-r", capture(self.capture_name), "-o", "spicemig.take_vnc_ports:FALSE",
                     "-Y", "spicemig || vnc", "-T", "fields", "-e", "_ws.col.Protocol")
        protocols = set(out.split())
        self.assertEqual(protocols, {"VNC"})


class RealVncSession(unittest.TestCase):
    capture_name = "vnc-5900.pcapng"

    def summary(self, with_plugin):
        args = ["-2", "-T", "fields", "-e", "frame.number", "-e", "_ws.col.Protocol", "-e", "_ws.col.Info"]
        if with_plugin:
            return tshark("-r", capture(self.capture_name), *args)
        return builtin_only(self.capture_name, *args)

    def test_decodes_exactly_as_without_the_plugin(self):
        with_plugin = self.summary(True)
        self.assertEqual(with_plugin, self.summary(False))
        self.assertIn("Server framebuffer parameters", with_plugin)

    def test_every_payload_frame_is_vnc(self):
        self.assertEqual(count(self.capture_name, "tcp.len>0 && !vnc"), 0)
        self.assertEqual(count(self.capture_name, "spicemig"), 0)
        self.assertGreater(count(self.capture_name, "vnc.fb_update_num_rects"), 0)


if __name__ == "__main__":
    unittest.main()
