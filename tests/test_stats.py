"""The statistics on real captures: the exact rows of `-z spicemig,tree`
and the exact `-z spicemig,migrations` table."""

import unittest

from spicemig_tshark import capture, stats_tree_rows, tshark

# Hops in ASCII: tshark pads the tree's columns by bytes, "\u2192" would shift them.
BODIES = [(1, "MNMD", 2), (2, "source->client", 1), (2, "client->destination", 1),
          (1, "ICMD", 2), (2, "source->client", 1), (2, "client->destination", 1),
          (1, "DCMD", 2), (2, "source->client", 1), (2, "client->destination", 1)]
RULE = "=" * 193
HEADER = ("#   Kind                                 Outcome   Source                Destination            Begin    End"
          " Begin>MIGRATE   MIGRATE>fwd   Display gap  Sent Forwarded Missing Modified Unmatched")


def report(capture_name, *z):
    args = ["-r", capture(capture_name), "-2", "-q"]
    for option in z:
        args += ["-z", option]
    return tshark(*args)


class Tree(unittest.TestCase):
    def test_real_capture(self):
        self.assertEqual(stats_tree_rows(report("seamless-default.pcapng", "spicemig,tree")),
                         [(0, "Migrations by kind", 1), (1, "seamless", 1),
                          (0, "Migrations by outcome", 1), (1, "completed", 1),
                          (0, "Migrate-data bodies by magic and hop", 6)] + BODIES
                         + [(0, "Problems by severity and expert info", 0)])

    def test_problems_by_severity_and_expert_info(self):
        self.assertEqual(stats_tree_rows(report("synthetic/forward-modified.pcapng", "spicemig,tree"))[-3:],
                         [(0, "Problems by severity and expert info", 1), (1, "Warnings", 1),
                          (2, "spicemig.forward_modified", 1)])
        rows = stats_tree_rows(report("synthetic/malformed-pointer-out-of-bounds.pcap", "spicemig,tree"))
        self.assertEqual(rows[rows.index((0, "Problems by severity and expert info", 1)):],
                         [(0, "Problems by severity and expert info", 1), (1, "Errors", 1),
                          (2, "spicemig.pointer_out_of_bounds", 1)])

    def test_extra_channels(self):
        rows = stats_tree_rows(report("seamless-extra-channels.pcapng", "spicemig,tree"))
        self.assertIn((0, "Migrate-data bodies by magic and hop", 12), rows)
        self.assertIn((1, "SVMD", 6), rows)
        self.assertEqual(rows[:2], [(0, "Migrations by kind", 1), (1, "seamless", 1)])


class Migrations(unittest.TestCase):
    def test_real_capture(self):
        self.assertEqual(report("seamless-default.pcapng", "spicemig,migrations").splitlines(), [
            "", RULE, "SPICE migrations (times in seconds)", HEADER,
            "1   seamless                             completed 127.0.0.1:5910        127.0.0.1:5912           174    296"
            "   1.137165587   0.002482656   1.354679096     3         3       0        0         0",
            RULE])

    def test_three_hosts(self):
        self.assertEqual(report("seamless-three-hosts.pcapng", "spicemig,migrations").splitlines()[4],
                         "1   seamless                             completed 192.0.2.1:5900        192.0.2.2:5900"
                         "           174    296   1.137165587   0.002482656   1.354679096     3         3       0"
                         "        0         0")

    def test_modified_body_counted(self):
        self.assertEqual(report("synthetic/forward-modified.pcapng", "spicemig,migrations").splitlines()[4][-42:],
                         "    3         3       0        1         0")


if __name__ == "__main__":
    unittest.main()
