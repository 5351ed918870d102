"""tools/spicemig-lint on real captures, on the capture with an altered
forwarded body and on bad arguments: its exact output and exit status."""

import os
import subprocess
import unittest

from spicemig_tshark import CAPTURES, HERE, PLUGIN

LINT = os.path.join(HERE, "..", "tools", "spicemig-lint")


def lint(*args, plugin=True):
    command = [LINT] + (["--plugin", PLUGIN] if plugin else []) + list(args)
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300,
                          cwd=CAPTURES)
    return proc.returncode, proc.stdout.splitlines(), proc.stderr


class Clean(unittest.TestCase):
    def test_real_captures(self):
        status, lines, stderr = lint("seamless-default.pcapng", "seamless-three-hosts.pcapng",
                                     "seamless-extra-channels.pcapng")
        self.assertEqual((status, stderr), (0, ""))
        self.assertEqual(lines, [
            "seamless-default.pcapng: 1 migration (seamless), 3 of 3 bodies forwarded, 0 problems",
            "seamless-three-hosts.pcapng: 1 migration (seamless), 3 of 3 bodies forwarded, 0 problems",
            "seamless-extra-channels.pcapng: 1 migration (seamless), 6 of 6 bodies forwarded, 0 problems",
        ])


class Problems(unittest.TestCase):
    def test_altered_forward_names_the_frame(self):
        status, lines, stderr = lint("seamless-default.pcapng", "synthetic/forward-modified.pcapng")
        self.assertEqual((status, stderr), (1, ""))
        self.assertEqual(lines, [
            "seamless-default.pcapng: 1 migration (seamless), 3 of 3 bodies forwarded, 0 problems",
            "synthetic/forward-modified.pcapng:281: Display destination: warning: Forwarded body differs from "
            "the source's (frame 280) from offset 60 on: spicemig.display.glz_dict.size",
            "synthetic/forward-modified.pcapng: 1 migration (seamless), 3 of 3 bodies forwarded, 1 problem",
        ])

    def test_body_error(self):
        status, lines, _ = lint("synthetic/malformed-pointer-out-of-bounds.pcap")
        self.assertEqual(status, 1)
        self.assertEqual(lines, [
            "synthetic/malformed-pointer-out-of-bounds.pcap:13: Display source: error: "
            "Surfaces list offset 5000 + 4 bytes runs past the 88-byte body",
            "synthetic/malformed-pointer-out-of-bounds.pcap: 1 migration (seamless), 0 of 1 bodies forwarded, "
            "1 problem",
        ])


class Errors(unittest.TestCase):
    def test_missing_file(self):
        status, lines, stderr = lint("no-such.pcapng")
        self.assertEqual((status, lines), (2, []))
        self.assertIn("no-such.pcapng: no such readable file", stderr)

    def test_not_a_capture(self):
        status, _, stderr = lint("README.md")
        self.assertEqual(status, 2)
        self.assertIn("README.md: tshark failed", stderr)

    def test_usage(self):
        self.assertEqual(lint(plugin=False)[0], 2)
        self.assertEqual(lint("--plugin", "/nonexistent/spicemig.so", "seamless-default.pcapng",
                              plugin=False)[0], 2)


if __name__ == "__main__":
    unittest.main()
