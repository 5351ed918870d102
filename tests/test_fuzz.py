"""No input makes the plugin crash, trip a sanitizer or a Wireshark
assertion, loop, or throw a Malformed of its own: captures mutated the way
Wireshark's tools/fuzz-test.sh does it (editcap -E, fixed seeds so that a
failure can be replayed) and by the structure-aware mutator (edge values in
the length, count and pointer fields of the SPICE messages), each through
tshark -nVxr and -2 -nVxr with dissector bugs made fatal (tools/capturefuzz.py).
With a plugin built with SPICEMIG_SANITIZE=ON, tshark runs with its
sanitizers preloaded. Inputs that find something are kept in
$SPICEMIG_FINDINGS (default: a findings folder in the working directory)."""

import glob
import os
import sys
import tempfile
import unittest

from spicemig_tshark import CAPTURES, HERE, PLUGIN

sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import capturefuzz  # noqa: E402

FINDINGS = os.environ.get("SPICEMIG_FINDINGS", "findings")
# Bounded for CI; tools/fuzz-captures runs the whole set (docs/fuzzing.md).
EDITCAP_RUNS = [("0.02", 0, 1), ("0.01", 54, 2)]
STRUCTURE_SAMPLE = {  # capture: every n-th mutant
    "seamless-default.pcapng": 60,
    "synthetic/smartcard.pcap": 20,
    "synthetic/main-agent-partial.pcap": 20,
    "synthetic/full-header.pcap": 20,
    "synthetic/agent-clipboard.pcap": 5,
    "synthetic/mnmd-write-data.pcap": 20,
}


class Fuzz(unittest.TestCase):
    def assertClean(self, mutant, description):
        problems = capturefuzz.check(PLUGIN, mutant, description, FINDINGS)
        self.assertEqual(problems, [], description)
        os.unlink(mutant)

    def test_editcap_mutants(self):
        paths = sorted(glob.glob(os.path.join(CAPTURES, "*.pcapng")) +
                       glob.glob(os.path.join(CAPTURES, "synthetic", "*.pcap")))
        # Corrupting a TLS capture (one with a key log) only makes its records
        # fail to decrypt: nothing of it reaches spicemig, and it would take a
        # third of the run.
        paths = [path for path in paths if not os.path.exists(os.path.splitext(path)[0] + ".keys")]
        self.assertGreater(len(paths), 20)
        with tempfile.TemporaryDirectory() as workdir:
            for path in paths:
                for rate, offset, seed in EDITCAP_RUNS:
                    with self.subTest(capture=os.path.basename(path), rate=rate, offset=offset, seed=seed):
                        self.assertClean(*capturefuzz.editcap_mutant(path, workdir, rate, offset, seed))

    def test_structure_mutants(self):
        with tempfile.TemporaryDirectory() as workdir:
            for name, step in STRUCTURE_SAMPLE.items():
                mutants = list(capturefuzz.structure_mutants(os.path.join(CAPTURES, name), workdir, step=step))
                self.assertGreater(len(mutants), 5, name)
                for mutant, description in mutants:
                    with self.subTest(mutant=description):
                        self.assertClean(mutant, description)


if __name__ == "__main__":
    unittest.main()
