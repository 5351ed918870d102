"""No input makes the plugin crash, trip a Wireshark assertion or loop:
every capture is run through tshark after editcap has corrupted random
bytes (fixed seeds, so a failure can be replayed), with dissector bugs
made fatal."""

import glob
import os
import subprocess
import tempfile
import unittest

from spicemig_tshark import CAPTURES, HERE, PLUGIN

SEEDS = range(1, 9)
ERROR_PROBABILITY = "0.02"


class Fuzz(unittest.TestCase):
    def run_corrupted(self, path, seed, workdir):
        fuzzed = os.path.join(workdir, "seed%d-%s" % (seed, os.path.basename(path)))
        subprocess.run(["editcap", "--seed", str(seed), "-E", ERROR_PROBABILITY, path, fuzzed],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env = dict(os.environ, WIRESHARK_ABORT_ON_DISSECTOR_BUG="1",
                   WIRESHARK_ABORT_ON_TOO_MANY_ITEMS="1")
        proc = subprocess.run([os.path.join(HERE, "tshark-with-plugin"), PLUGIN, "-r", fuzzed, "-2", "-V",
                               "-o", "tcp.check_checksum:FALSE"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              timeout=120, env=env)
        # tshark exits 2 for a truncated or mangled file record; a crash is a signal.
        self.assertGreaterEqual(proc.returncode, 0, "seed %d of %s: killed by signal" % (seed, path))
        self.assertNotIn("Dissector bug", proc.stderr, "seed %d of %s" % (seed, path))

    def test_corrupted_captures(self):
        paths = sorted(glob.glob(os.path.join(CAPTURES, "*.pcapng")) +
                       glob.glob(os.path.join(CAPTURES, "synthetic", "*.pcap")))
        # Corrupting a TLS capture only makes its records fail to decrypt:
        # nothing of it reaches spicemig, and it would take a third of the run.
        paths = [path for path in paths if not os.path.basename(path).startswith("tls-")]
        self.assertGreater(len(paths), 20)
        with tempfile.TemporaryDirectory() as workdir:
            for path in paths:
                for seed in SEEDS:
                    with self.subTest(capture=os.path.basename(path), seed=seed):
                        self.run_corrupted(path, seed, workdir)


if __name__ == "__main__":
    unittest.main()
