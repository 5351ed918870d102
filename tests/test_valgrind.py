"""valgrind (memcheck) over tshark decoding captures with the plugin: no
invalid read or write, no use of uninitialised memory, in any frame. tshark
itself and libwireshark 4.0 and 4.4 report none on these captures either;
tests/valgrind.supp names the one other project's library 4.6 brings
errors from (at load time); any other error fails (--error-exitcode). ctest runs a subset
that covers every decoder; SPICEMIG_VALGRIND_ALL=1 runs every capture in
testcaptures/ (docs/fuzzing.md)."""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from spicemig_tshark import CAPTURES, HERE, PLUGIN, key_log_options

SUBSET = [
    "seamless-default.pcapng",            # link phase, hand-over, MNMD/DCMD/ICMD, control messages
    "synthetic/smartcard.pcap",           # SCMD and its data regions
    "synthetic/edge-link-caps.pcap",      # bad caps, the built-in's exceptions caught
    "tls-mixed-ports.pcapng",             # SPICE decrypted from TLS records (its key log)
]
ERROR_EXIT = 99
SUPPRESSIONS = os.path.join(HERE, "valgrind.supp")


def captures():
    if os.environ.get("SPICEMIG_VALGRIND_ALL"):
        return sorted(os.path.relpath(p, CAPTURES) for pattern in ("*.pcap*", "synthetic/*.pcap*")
                      for p in glob.glob(os.path.join(CAPTURES, pattern)))
    return SUBSET


class Valgrind(unittest.TestCase):
    def test_no_memory_errors(self):
        with tempfile.TemporaryDirectory() as logdir:
            os.chmod(logdir, 0o1777)  # tshark runs as nobody, and reads its own copy of the suppressions
            suppressions = os.path.join(logdir, "valgrind.supp")
            shutil.copyfile(SUPPRESSIONS, suppressions)
            os.chmod(suppressions, 0o644)
            for name in captures():
                with self.subTest(capture=name):
                    log = os.path.join(logdir, os.path.basename(name) + ".log")
                    env = dict(os.environ, SPICEMIG_WRAPPER="valgrind --error-exitcode=%d --log-file=%s "
                               "--suppressions=%s" % (ERROR_EXIT, log, suppressions))
                    # A TLS capture's key log, where there is one: spicemig decodes what it decrypts.
                    key_log = os.path.splitext(name)[0] + ".keys"
                    keys = key_log_options(key_log) if os.path.exists(os.path.join(CAPTURES, key_log)) else ()
                    proc = subprocess.run([os.path.join(HERE, "tshark-with-plugin"), PLUGIN, "-r",
                                           os.path.join(CAPTURES, name), "-2", "-V",
                                           "-o", "tcp.check_checksum:FALSE", *keys],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                          env=env, timeout=900)
                    with open(log) as f:
                        report = f.read()
                    self.assertEqual(proc.returncode, 0, report[-3000:])
                    self.assertRegex(report, r"ERROR SUMMARY: 0 errors from 0 contexts")
                    # No stack of any report (leaks are not checked) goes through the plugin.
                    self.assertIsNone(re.search(r"spicemig\.so|plugin/spicemig", report.split("HEAP SUMMARY")[0]),
                                      report[-3000:])


if __name__ == "__main__":
    unittest.main()
