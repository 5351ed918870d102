"""What a Wireshark user sees on the real captures: one spicemig item per
frame, spicemig right under TCP in the protocol hierarchy, one Info
vocabulary with repeats collapsed, unique labels, problems named in the
Info column, no false warnings of the built-in SPICE dissector left, and a
field reference that matches the plugin."""

import collections
import os
import subprocess
import unittest

from spicemig_tshark import ANY_EXPERT, HERE, PLUGIN, capture, column, count, fields, protocol_hierarchy, tshark

REAL = ["seamless-default.pcapng", "seamless-jpeg-wan.pcapng", "seamless-extra-channels.pcapng",
        "seamless-ports-5900.pcapng"]
# The built-in's warnings that the real captures raised before spicemig
# decoded those messages itself (see the README).
BUILTIN_FALSE_WARNINGS = "spice.unknown_message || spice.not_dissected || spice.unknown_channel || _ws.malformed"


def hierarchy(capture_name):
    """(depth, protocol) of every line of tshark's -z io,phs."""
    return protocol_hierarchy(tshark("-r", capture(capture_name), "-q", "-z", "io,phs"))


class OneItemPerFrame(unittest.TestCase):
    def test_no_spice_frame_without_spicemig(self):
        for name in REAL:
            self.assertEqual(count(name, "spice && !spicemig"), 0, name)
            self.assertGreater(count(name, "spice"), 100, name)

    def test_exactly_one_spicemig_item_per_frame(self):
        for name in REAL:
            directions = [row for row in column(name, "spicemig", "frame.number")]
            per_frame = tshark("-r", capture(name), "-2", "-Y", "spicemig", "-T", "fields",
                               "-E", "occurrence=a", "-e", "spicemig.direction").split("\n")
            self.assertEqual(len([d for d in per_frame if d]), len(directions), name)
            self.assertTrue(all("," not in d for d in per_frame), name)

    def test_protocol_hierarchy(self):
        base = [(0, "eth"), (1, "ip"), (2, "tcp"), (3, "spicemig"), (4, "spice")]
        for name in REAL:
            self.assertEqual(hierarchy(name), base, name)

    def test_one_spice_layer_per_frame(self):
        protocols = collections.Counter(column("seamless-default.pcapng", "spicemig", "frame.protocols"))
        # Frame 34 holds the end of a reassembled PING and two more messages:
        # TCP calls spicemig twice (two spicemig layers), the built-in adds one.
        self.assertEqual(protocols, {"eth:ethertype:ip:tcp:spicemig": 17, "eth:ethertype:ip:tcp:spicemig:spice": 140,
                                     "eth:ethertype:ip:tcp:spicemig:spice:spicemig": 1})
        self.assertEqual(column("seamless-default.pcapng", "frame.protocols contains \"spice:spicemig\"",
                                "frame.number"), ["34"])


class TreeNobodyReads(unittest.TestCase):
    """A filter naming only the built-in's fields (or expert or malformed
    ones) gets a tree without spicemig's items (bench/: the filter path); it
    must match the same frames, with the same values and Info, as one that
    names spicemig too."""

    def same_with_spicemig_named(self, capture_name, display_filter, *names, count_expected):
        for two_pass in (False, True):
            alone = fields(capture_name, display_filter, *names, two_pass=two_pass)
            named = fields(capture_name, "(%s) && spicemig" % display_filter, *names, two_pass=two_pass)
            self.assertEqual(alone, named, (display_filter, two_pass))
            self.assertEqual(len(alone), count_expected, (display_filter, two_pass))
        return alone

    def test_builtin_fields(self):
        rows = self.same_with_spicemig_named("seamless-default.pcapng", "spice.ping_id", "frame.number",
                                             "spice.ping_id", "_ws.col.Info", count_expected=34)
        self.assertEqual(rows[:3], [[["19"], ["1"], ["Main PING"]], [["20"], ["2"], ["Main PING"]],
                                    [["27"], ["1"], ["[TCP ZeroWindow] Main PONG"]]])
        self.assertEqual(rows[4], [["34"], ["3"], ["Main PING, Main CHANNELS_LIST"]])

    def test_expert_and_malformed_fields(self):
        rows = self.same_with_spicemig_named("synthetic/malformed-surface-id-out-of-range.pcap",
                                             "_ws.expert.severity == error", "frame.number", "_ws.expert.message",
                                             count_expected=1)
        self.assertEqual(rows, [[["13"], ["Surface id 2000 is out of range: the destination server has surfaces "
                                          "0 to 1023"]]])
        rows = self.same_with_spicemig_named("synthetic/edge-link-caps.pcap", "_ws.malformed", "frame.number",
                                             count_expected=4)
        self.assertEqual(rows, [[["4"]], [["5"]], [["17"]], [["18"]]])


class InfoColumn(unittest.TestCase):
    def test_repeats_collapse(self):
        info = column("seamless-default.pcapng", "frame.number == 316", "_ws.col.Info")
        self.assertEqual(info, ["Display DRAW_COPY \u00d736"])
        self.assertEqual(count("seamless-default.pcapng", "frame.number == 316 && spice.message_type == 304"), 1)

    def test_one_vocabulary_and_protocol_column(self):
        rows = tshark("-r", capture("seamless-default.pcapng"), "-2", "-Y", "spicemig", "-T", "fields",
                      "-e", "_ws.col.Protocol", "-e", "_ws.col.Info").splitlines()
        protocols = {line.split("\t")[0] for line in rows}
        self.assertEqual(protocols, {"SPICE Main", "SPICE Display", "SPICE Inputs", "SPICE Cursor"})
        for line in rows:
            protocol, info = line.split("\t")
            channel = protocol.split(" ", 1)[1]
            self.assertFalse("Server " in info or "Client " in info, info)
            self.assertTrue(info.replace("[TCP ZeroWindow] ", "").startswith(channel + " "), (protocol, info))

    def test_problems_reach_the_info_column(self):
        expected = {
            "chardev-version": "USB redirection MIGRATE_DATA source\u2192client SVMD v1: connected, write 0 bytes "
                               "[char device version 2 unsupported]",
            "chunk-header-size": "Main MIGRATE_DATA source\u2192client MNMD v1: agent disconnected [chunk header bytes read 12 too large]",
            "dst-info-bad-host-ptr": "Main MIGRATE_BEGIN_SEAMLESS to ?:5932 (src version 1) "
                                     "[destination host offset 200 out of bounds]",
            "magic-channel-mismatch": "Inputs MIGRATE_DATA source\u2192client DCMD v1: 1 surface, GLZ window 6290432 "
                                      "[DCMD on the Inputs channel]",
            "partial-header-too-long": "Main MIGRATE_DATA source\u2192client MNMD v1: agent connected, partial agent "
                                       "message header 24 bytes [partial header length 24 too long]",
            "pointer-into-fixed-part": "USB redirection MIGRATE_DATA source\u2192client SVMD v1: connected, write 4 bytes "
                                       "[write data offset 12 inside the fixed part]",
            "pointer-out-of-bounds": "Display MIGRATE_DATA source\u2192client DCMD v1: surfaces unreadable, GLZ window 6290432 "
                                     "[surfaces list offset 5000 out of bounds]",
            "surface-id-out-of-range": "Display MIGRATE_DATA source\u2192client DCMD v1: 1 surface, GLZ window 6290432 "
                                       "[surface id 2000 out of range]",
            "truncated-count": "Display MIGRATE_DATA source\u2192client DCMD v1: 100 surfaces, GLZ window 6290432 "
                               "[number of surfaces 100 past the body end]",
            "truncated-fixed": "Display MIGRATE_DATA source\u2192client DCMD v1: truncated to 50 of 80 bytes [DCMD truncated]",
            "unknown-magic": "Display MIGRATE_DATA source\u2192client unknown magic \"XXMD\" [unknown magic XXMD]",
            "unsupported-version": "Inputs MIGRATE_DATA source\u2192client ICMD v2: motion count 0 [ICMD version 2 unsupported]",
            # Warnings, not errors: no suffix.
            "migrate-unknown-flags": "Inputs MIGRATE flags 0x0000000c",
            "trailing-data": "Inputs MIGRATE_DATA source\u2192client ICMD v1: motion count 0",
        }
        for name, info in expected.items():
            cap = "synthetic/malformed-%s.pcap" % name
            self.assertEqual(column(cap, ANY_EXPERT, "_ws.col.Info"), [info], name)


class Labels(unittest.TestCase):
    def test_labels_unique_among_spicemig_fields(self):
        labels = [line.split("\t")[1] for line in tshark("-G", "fields").splitlines()
                  if line.startswith("F\t") and line.split("\t")[4] == "spicemig"]
        duplicates = sorted({label for label in labels if labels.count(label) > 1})
        self.assertEqual(duplicates, [])


class BuiltinMistakesReplaced(unittest.TestCase):
    def test_no_builtin_false_warning_left(self):
        for name in REAL:
            self.assertEqual(count(name, BUILTIN_FALSE_WARNINGS), 0, name)

    def test_main_init_session_id_little_endian(self):
        # Bytes 1a b4 6b 68 in this capture; the built-in read them big-endian.
        self.assertEqual(column("seamless-default.pcapng", "spicemig.main_init.session_id",
                                "spicemig.main_init.session_id"), ["0x686bb41a"])
        self.assertEqual(count("seamless-default.pcapng", "spice.main_session_id"), 0)

    def test_inval_all_pixmaps_decoded(self):
        self.assertEqual(column("seamless-default.pcapng", "spicemig.msg.type == 106", "spicemig.wait.count"),
                         ["0"])


class FieldReference(unittest.TestCase):
    def test_docs_fields_md_is_current(self):
        proc = subprocess.run([os.path.join(HERE, "..", "tools", "gen-fields-doc"), PLUGIN,
                               "--check", os.path.join(HERE, "..", "docs", "fields.md")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(proc.returncode, 0, proc.stdout)


if __name__ == "__main__":
    unittest.main()
