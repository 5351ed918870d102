"""A migration recorded now, with real QEMU, spice-server and spice-gtk
(tools/make-migration-capture), decodes like the committed ones: the plugin
is checked against the software of the machine it runs on, not only
against captures made once. Skipped where QEMU or spice-gtk's GObject
bindings are not installed (tools/install-deps --capture installs them)."""

import collections
import os
import shutil
import subprocess
import tempfile
import unittest

from spicemig_tshark import HERE, column, count, fields

TOOL = os.path.join(HERE, "..", "tools", "make-migration-capture")


def capture_tools_missing():
    if os.environ.get("SPICEMIG_IN_CHROOT"):
        return "runs on the host only (QEMU and the capture on lo are not set up in the chroots)"
    if not shutil.which("qemu-system-x86_64") or not shutil.which("dumpcap"):
        return "qemu-system-x86_64 or dumpcap not installed"
    probe = subprocess.run(["/usr/bin/python3", "-c", "import gi; gi.require_version('SpiceClientGLib', '2.0')"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if probe.returncode != 0:
        return "spice-gtk's GObject bindings (gir1.2-spiceclientglib-2.0, python3-gi) not installed"
    if os.geteuid() != 0:
        return "capturing on lo needs root"
    return None


@unittest.skipIf(capture_tools_missing(), capture_tools_missing())
class LiveMigration(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.cap = os.path.join(cls.tmp.name, "live.pcapng")
        subprocess.run([TOOL, "--out", cls.cap, "--src-port", "5920", "--dst-port", "5922",
                        "--pre-migration-seconds", "1", "--post-migration-seconds", "1"],
                       check=True, timeout=120)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_migrate_data_body_decoded_twice(self):
        rows = fields(self.cap, "spicemig.magic", "spicemig.magic", "spicemig.msg.type")
        seen = collections.Counter((magic[0], msg_type[0]) for magic, msg_type in rows)
        self.assertEqual(seen, collections.Counter({(m, t): 1 for m in ("MNMD", "DCMD", "ICMD") for t in ("2", "5")}))

    def test_display_state(self):
        dcmd = 'spicemig.magic == "DCMD"'
        for name, value in (("spicemig.display.pixmap_cache.id", "1"),
                            ("spicemig.display.pixmap_cache.size", "20971520"),
                            ("spicemig.display.glz_dict.size", "6290432"),
                            ("spicemig.display.glz_dict.max_encoders", "4"),
                            ("spicemig.display.surfaces_ptr", "80"),
                            ("spicemig.display.surfaces.count", "1"),
                            ("spicemig.display.surface.id", "0")):
            self.assertEqual(column(self.cap, dcmd, name), [value, value], name)
        serials = column(self.cap, dcmd, "spicemig.display.message_serial")
        self.assertEqual(len(set(serials)), 1)

    def test_whole_capture_dissected(self):
        self.assertEqual(count(self.cap, "tcp.len>0 && !spice && !spicemig && !tcp.reassembled_in"
                               " && !tcp.analysis.retransmission"), 0)
        self.assertEqual(count(self.cap, "_ws.malformed"), 0)
        self.assertEqual(column(self.cap, "spicemig.msg.type == 116", "spicemig.dst_info.port"), ["5922"])


if __name__ == "__main__":
    unittest.main()
