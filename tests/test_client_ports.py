"""Client ports that Wireshark registers for other protocols (issue #15,
item 5). Linux picks a client's port from 32768-60999, where Wireshark's
port table names dozens of protocols, and TCP consults that table before the
heuristics: a SPICE connection from client port 57000 or 6667 went to IRC,
from 8080 to HTTP. Once spicemig knows a server speaks SPICE, every later
connection to it is SPICE whatever the client port (a wildcard conversation,
which TCP consults before its port table).

The captures are real ones with client ports rewritten by
tools/rewrite-client-ports (made here, in a temporary folder), compared with
the originals: spicemig's and the built-in's decoding must be the same,
frame by frame, on one pass and on two."""

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from spicemig_tshark import ANY_EXPERT, builtin_only, capture, count, fields, key_log_options, tshark

HERE = os.path.dirname(os.path.abspath(__file__))
REWRITE = os.path.join(HERE, "..", "tools", "rewrite-client-ports")

_scratch = tempfile.mkdtemp(prefix="spicemig-client-ports-")
atexit.register(shutil.rmtree, _scratch, True)


def rewritten(original, *mapping):
    """A copy of testcaptures/ORIGINAL with the client ports OLD:NEW rewritten."""
    path = os.path.join(_scratch, "%s-%s.pcapng" % (original.rsplit(".", 1)[0], "-".join(mapping)))
    if not os.path.exists(path):
        subprocess.run([sys.executable, REWRITE, capture(original), path, *mapping], check=True,
                       stdout=subprocess.DEVNULL)
    return path


def decoding(path, two_pass, extra=()):
    """Every frame's spicemig and built-in SPICE layers (tshark -T json),
    in capture order: nothing in them names a client port."""
    args = ["-r", path, "-T", "json", "-J", "spicemig spice", "--no-duplicate-keys", *extra]
    if two_pass:
        args.append("-2")
    return [packet["_source"]["layers"] for packet in json.loads(tshark(*args))]


def summary(path, two_pass, extra=()):
    """Per frame: its protocols and Protocol column; the Info column of the
    frames spicemig decodes (that of plain TCP frames names the ports)."""
    names = ("frame.number", "frame.protocols", "_ws.col.Protocol", "spicemig", "_ws.col.Info")
    return [row[:3] + [row[4] if row[3] else []]
            for row in fields(path, "", *names, two_pass=two_pass, extra=extra)]


class DecodesLikeTheOriginal:
    """Mixed into a TestCase: ORIGINAL rewritten with MAPPING decodes exactly
    like ORIGINAL, on one pass and on two; the rewritten client ports
    (STOLEN: port -> protocol of Wireshark's port table) take nothing."""
    original = None
    mapping = ()
    stolen = {}
    extra = ()

    @classmethod
    def setUpClass(cls):
        cls.copy = rewritten(cls.original, *cls.mapping)

    def test_the_copy_uses_the_stolen_ports(self):
        # (Wireshark 4.0's IRC and HTTP take any payload on their ports; those
        # of 4.4 turn down what is not IRC or HTTP, so TCP goes on to the
        # heuristics. The decoding must be the original's on both.)
        for port in self.stolen:
            self.assertGreater(count(self.copy, "tcp.port == %d && tcp.len > 0" % port), 10)

    def test_same_decoding_frame_by_frame(self):
        for two_pass in (False, True):
            with self.subTest(two_pass=two_pass):
                self.assertEqual(decoding(self.copy, two_pass, self.extra),
                                 decoding(capture(self.original), two_pass, self.extra))

    def test_same_protocols_and_info(self):
        for two_pass in (False, True):
            with self.subTest(two_pass=two_pass):
                self.assertEqual(summary(self.copy, two_pass, self.extra),
                                 summary(capture(self.original), two_pass, self.extra))

    def test_nothing_left_to_the_ports_protocols(self):
        protocols = " || ".join(sorted(set(self.stolen.values())))
        for two_pass in (False, True):
            with self.subTest(two_pass=two_pass):
                self.assertEqual(count(self.copy, protocols + " || data || _ws.malformed", two_pass=two_pass,
                                       extra=self.extra), 0)
        # Every payload of those connections is spicemig's, as in the original
        # (where a retransmission is plain TCP in both).
        for old, new in (pair.split(":") for pair in self.mapping):
            plain = "tcp.port == %s && tcp.len > 0 && !spicemig && !tcp.reassembled_in"
            self.assertEqual(fields(self.copy, plain % new, "frame.number", extra=self.extra),
                             fields(capture(self.original), plain % old, "frame.number", extra=self.extra))

    def test_same_migration_and_no_problem(self):
        names = ("frame.number", "spicemig.magic", "spicemig.role", "spicemig.session_id",
                 "spicemig.forwarded_from", "spicemig.forwarded_in", "spicemig.dst_verdict",
                 "spicemig.display.message_serial", "spicemig.display.glz_dict.size",
                 "spicemig.display.surfaces_ptr", "spicemig.inputs.motion_count")
        rows = fields(self.copy, "spicemig.magic", *names, extra=self.extra)
        self.assertEqual(rows, fields(capture(self.original), "spicemig.magic", *names, extra=self.extra))
        self.assertGreaterEqual(len(rows), 6)
        self.assertEqual(count(self.copy, "spicemig.forward_missing || spicemig.forward_unmatched",
                               extra=self.extra), 0)
        self.assertEqual(count(self.copy, ANY_EXPERT, extra=self.extra),
                         count(capture(self.original), ANY_EXPERT, extra=self.extra))


class LaterConnectionsOnStolenPorts(DecodesLikeTheOriginal, unittest.TestCase):
    # seamless-default.pcapng: source 127.0.0.1:5910, destination :5912. The
    # source's display channel (38878) from IRC's 6667, the destination's
    # display channel, the one the DCMD body is forwarded on (56030), from
    # 57000 (IRC's too: the port of the real recording in the issue), the
    # destination's inputs channel (56006) from HTTP's 8080. Each server is
    # known by then (its main channel came first).
    original = "seamless-default.pcapng"
    mapping = ("38878:6667", "56030:57000", "56006:8080")
    stolen = {6667: "irc", 57000: "irc", 8080: "http"}

    def test_the_forwarded_display_body_is_found(self):
        rows = fields(self.copy, 'spicemig.magic == "DCMD"', "tcp.dstport", "spicemig.forwarded_from")
        # The source's copy to the client on 6667, forwarded from 57000.
        self.assertEqual(rows, [[["6667"], []], [["5912"], ["280"]]])
        self.assertEqual(count(self.copy, 'spicemig.magic == "DCMD" && tcp.srcport == 57000'), 1)


class LaterConnectionsOnStolenPortsOverTls(DecodesLikeTheOriginal, unittest.TestCase):
    # SPICE in TLS (tls-port 5911 and 5913): the known server's connections
    # go to TLS before the port table, and TLS hands the SPICE inside to
    # spicemig. The source's display channel from 6667, the destination's
    # display and inputs channels from 57000 and 8080.
    original = "tls-all-channels.pcapng"
    mapping = ("45938:6667", "33430:57000", "33414:8080")
    stolen = {6667: "irc", 57000: "irc", 8080: "http"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.extra = key_log_options("tls-all-channels.keys")


class FirstConnectionsOnPorts5900(DecodesLikeTheOriginal, unittest.TestCase):
    # On 5900-5901 even each server's first connection (its main channel)
    # may come from a stolen port: TCP tries the server's port (5900, seen
    # in the SYN, or the lower port) before the client's, and spicemig has it.
    original = "seamless-ports-5900.pcapng"
    mapping = ("45650:6667", "46602:57000", "46624:8080")
    stolen = {6667: "irc", 57000: "irc", 8080: "http"}


class FirstConnectionsWithHeuristicsFirst(DecodesLikeTheOriginal, unittest.TestCase):
    # A server's first connection on a stolen port elsewhere: nothing says
    # yet that the server speaks SPICE, so TCP's port table wins (see
    # FirstConnectionOnAStolenPort). TCP's "Try heuristic sub-dissectors
    # first" preference (or Decode As on the server's port) hands it to spicemig.
    original = "seamless-default.pcapng"
    mapping = ("38876:6667", "55996:57000")
    stolen = {6667: "irc", 57000: "irc"}
    extra = ("-o", "tcp.try_heuristic_first:TRUE")


class FirstConnectionOnAStolenPort(unittest.TestCase):
    def test_the_port_table_decides_until_the_server_is_known(self):
        # The source's and the destination's main channels, each its server's
        # first connection, from IRC's ports. Nothing says yet that the server
        # speaks SPICE: TCP's port table decides, as without spicemig.
        # Wireshark 4.0's IRC takes any payload: those two connections stay
        # IRC, and the servers' other connections, claimed by their link
        # messages, are all SPICE (every display and inputs body is still
        # found and compared). 4.4's IRC turns them down, and spicemig's
        # heuristic claims them as usual.
        copy = rewritten("seamless-default.pcapng", "38876:6667", "55996:57000")
        on_irc_ports = "spicemig && (tcp.port == 6667 || tcp.port == 57000)"
        if builtin_only(copy, "-Y", "irc") == "":
            self.assertEqual(count(copy, on_irc_ports), 38)
            self.assertEqual(decoding(copy, True), decoding(capture("seamless-default.pcapng"), True))
            return
        self.assertEqual(count(copy, on_irc_ports), 0)
        self.assertGreater(count(copy, "irc"), 0)
        self.assertEqual(count(copy, "tcp.len > 0 && !spicemig && !irc && !tcp.reassembled_in"),
                         count("seamless-default.pcapng", "tcp.len > 0 && !spicemig && !tcp.reassembled_in"))
        self.assertEqual(fields(copy, "spicemig.magic", "frame.number", "spicemig.magic"),
                         [[["276"], ["ICMD"]], [["277"], ["ICMD"]], [["280"], ["DCMD"]], [["281"], ["DCMD"]]])


if __name__ == "__main__":
    unittest.main()
