"""A migration followed across connections on the real captures: sessions,
the role of every connection, every body's forwarded copy, the migration's
kind, hosts and times; the same on a copy rewritten to three hosts with both
servers on port 5900, on copies that show one server only, and on a copy
where one forwarded body was altered."""

import atexit
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from spicemig_tshark import capture, column, count, fields

SRC, DST = "source", "destination"

# capture: (session id, source, destination, roles by TCP stream,
#           {destination body frame: source body frame}, begin frame, times)
REAL = {
    "seamless-default.pcapng": (
        "0x686bb41a", "127.0.0.1:5910", "127.0.0.1:5912", [SRC] * 4 + [DST] * 4,
        {277: 276, 281: 280, 296: 284}, 174, ("1.137165587", "0.002482656", "1.354679096")),
    "seamless-three-hosts.pcapng": (
        "0x686bb41a", "192.0.2.1:5900", "192.0.2.2:5900", [SRC] * 4 + [DST] * 4,
        {277: 276, 281: 280, 296: 284}, 174, ("1.137165587", "0.002482656", "1.354679096")),
    "seamless-jpeg-wan.pcapng": (
        "0x45fa125a", "127.0.0.1:5910", "127.0.0.1:5912", [SRC] * 4 + [DST] * 4,
        {272: 271, 274: 273, 294: 280}, None, None),
    "seamless-ports-5900.pcapng": (
        "0x7c0c3723", "127.0.0.1:5900", "127.0.0.1:5901", [SRC] * 4 + [DST] * 4,
        {277: 276, 288: 278, 280: 279}, None, None),
    "seamless-extra-channels.pcapng": (
        "0xeef51a29", "127.0.0.1:5910", "127.0.0.1:5912", [SRC] * 7 + [DST] * 7,
        {440: 432, 444: 433, 447: 434, 437: 435, 448: 436, 465: 441}, None, None),
}
FORWARD_PROBLEMS = "spicemig.forward_modified || spicemig.forward_missing || spicemig.forward_unmatched"



def migration_message_frames(capture_name):
    """Frames holding a migration message (MIGRATE, MIGRATE_DATA, MIGRATE_BEGIN_SEAMLESS, ...), by the
    message names in their Info column: spicemig also decodes a few other messages itself."""
    return {frame[0] for frame, info in fields(capture_name, "spicemig.msg.type", "frame.number", "_ws.col.Info")
            if re.search(r"\bMIGRATE", info[0])}


class RealCaptures(unittest.TestCase):
    def test_roles_and_session_on_every_connection(self):
        for name, (session, _, _, roles, _, _, _) in REAL.items():
            with self.subTest(capture=name):
                rows = fields(name, "spicemig", "tcp.stream", "spicemig.role", "spicemig.session_id")
                by_stream = {}
                for stream, role, session_ids in rows:
                    by_stream.setdefault(int(stream[0]), set()).add((tuple(role), tuple(session_ids)))
                self.assertEqual(sorted(by_stream), list(range(len(roles))))
                for stream, role in enumerate(roles):
                    # Every spicemig item of the connection, link messages included.
                    self.assertEqual(by_stream[stream], {((role,), (session,))}, "stream %d" % stream)
                self.assertEqual(count(name, 'spicemig.role == "destination"'),
                                 count(name, "spicemig && tcp.stream >= %d" % roles.index(DST)))

    def test_every_body_forwarded(self):
        for name, (_, _, _, _, forwards, _, _) in REAL.items():
            with self.subTest(capture=name):
                got_from = {int(f[0]): int(s[0])
                            for f, s in fields(name, "spicemig.forwarded_from", "frame.number",
                                               "spicemig.forwarded_from")}
                got_in = {int(f[0]): int(d[0])
                          for f, d in fields(name, "spicemig.forwarded_in", "frame.number", "spicemig.forwarded_in")}
                self.assertEqual(got_from, forwards)
                self.assertEqual(got_in, {src: dst for dst, src in forwards.items()})
                self.assertEqual(count(name, "spicemig.magic"), 2 * len(forwards))
                self.assertEqual(count(name, FORWARD_PROBLEMS), 0)

    def test_hop_of_every_body(self):
        for name, (_, _, _, _, forwards, _, _) in REAL.items():
            with self.subTest(capture=name):
                rows = fields(name, "spicemig.magic", "frame.number", "spicemig.hop", "spicemig.role")
                for frame, hop, role in rows:
                    if int(frame[0]) in forwards:
                        self.assertEqual((hop, role), (["client\u2192destination"], [DST]))
                    else:
                        self.assertEqual((hop, role), (["source\u2192client"], [SRC]))
                for info in column(name, "spicemig.magic", "_ws.col.Info"):
                    self.assertRegex(info, "MIGRATE_DATA (source\u2192client|client\u2192destination) [A-Z]{2}MD v1")

    def test_one_seamless_migration_with_its_hosts(self):
        for name, (_, source, destination, _, _, _, _) in REAL.items():
            with self.subTest(capture=name):
                rows = fields(name, "spicemig.migration.id", "spicemig.migration.id", "spicemig.migration.kind",
                              "spicemig.migration.source", "spicemig.migration.destination")
                self.assertEqual({tuple(tuple(cell) for cell in row) for row in rows},
                                 {(("1",), ("seamless",), (source,), (destination,))})
                # Every migration message belongs to it, the source's and the destination's.
                self.assertEqual(len(rows), len(migration_message_frames(name)))

    def test_messages_link_to_the_begin_frame(self):
        frames = migration_message_frames("seamless-default.pcapng")
        rows = [row for row in fields("seamless-default.pcapng", "spicemig.msg.type", "frame.number",
                                      "spicemig.migration.begin") if row[0][0] in frames]
        self.assertEqual(rows[0], [["174"], []])
        self.assertEqual({tuple(begin) for _, begin in rows[1:]}, {("174",)})

    def test_times(self):
        for name in ("seamless-default.pcapng", "seamless-three-hosts.pcapng"):
            with self.subTest(capture=name):
                rows = fields(name, "spicemig.magic", "spicemig.migration.time.begin_to_migrate",
                              "spicemig.migration.time.migrate_to_forwarded",
                              "spicemig.migration.time.display_gap")
                times = REAL[name][6]
                self.assertEqual({tuple(cell[0] for cell in row) for row in rows}, {times})


_scratch = tempfile.mkdtemp(prefix="spicemig-analysis-")
atexit.register(shutil.rmtree, _scratch, True)


def one_server_copy(port):
    """seamless-default.pcapng with only the connections to one server."""
    path = os.path.join(_scratch, "only-%d.pcapng" % port)
    if not os.path.exists(path):
        subprocess.run(["tshark", "-r", capture("seamless-default.pcapng"), "-Y", "tcp.port == %d" % port,
                        "-w", path], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={"HOME": "/nonexistent", "PATH": "/usr/bin:/bin"})
        os.chmod(path, 0o644)
    return path


class OneServerOnly(unittest.TestCase):
    def test_destination_only(self):
        cap = one_server_copy(5912)
        self.assertEqual(set(column(cap, "spicemig", "spicemig.role")), {DST})
        self.assertEqual(set(column(cap, "spicemig", "spicemig.session_id")), {"0x686bb41a"})
        self.assertEqual(count(cap, "spicemig.forwarded_from || spicemig.forwarded_in"), 0)
        # The source copies are not in the capture: said, as a note, on each body.
        self.assertEqual(count(cap, "spicemig.forward_unmatched"), 3)
        self.assertEqual(count(cap, "spicemig.forward_modified || spicemig.forward_missing"), 0)
        self.assertEqual(set(column(cap, "spicemig.msg.type", "spicemig.migration.destination")),
                         {"127.0.0.1:5912"})
        self.assertEqual(count(cap, "spicemig.migration.source"), 0)

    def test_source_only(self):
        cap = one_server_copy(5910)
        self.assertEqual(set(column(cap, "spicemig", "spicemig.role")), {SRC})
        self.assertEqual(count(cap, "spicemig.forwarded_from || spicemig.forwarded_in"), 0)
        # The destination is not in the capture either: nothing can be missing from it.
        self.assertEqual(count(cap, FORWARD_PROBLEMS), 0)
        self.assertEqual(set(column(cap, "spicemig.msg.type", "spicemig.migration.destination")),
                         {"127.0.0.1:5912"})
        self.assertEqual(set(column(cap, "spicemig.msg.type", "spicemig.migration.source")), {"127.0.0.1:5910"})


def cut_copy(first_frame):
    """seamless-default.pcapng from `first_frame` on: captured mid-connection."""
    path = os.path.join(_scratch, "from-%d.pcapng" % first_frame)
    if not os.path.exists(path):
        subprocess.run(["editcap", "-r", capture("seamless-default.pcapng"), path, "%d-358" % first_frame],
                       check=True, stdout=subprocess.DEVNULL)
        os.chmod(path, 0o644)
    return path


class MidConnection(unittest.TestCase):
    def test_known_servers_claim_their_other_connections(self):
        # Cut just before the first MIGRATE: no link message at all. The
        # migration messages make both servers known; their cursor channels,
        # which carry no such message, are then claimed at the first segment
        # of whole messages. Two 6-byte server messages of the destination's
        # cursor before the client's first one (frames 8, 16) are claimed but
        # not yet at a known boundary; left as plain TCP: a retransmission (50).
        cap = cut_copy(260)
        self.assertEqual(column(cap, "tcp.len > 0 && !spicemig && !spice && !tcp.reassembled_in", "frame.number"),
                         ["50"])
        self.assertEqual(column(cap, "spicemig.unsynced", "frame.number"), ["8", "16"])
        self.assertEqual(column(cap, "tcp.stream == 4 && tcp.len > 0 && spicemig", "frame.number"),
                         ["8", "10", "11", "13", "16", "43", "44", "49"])
        # Bodies are still paired across the sessionless connections.
        self.assertEqual(column(cap, "spicemig.forwarded_from", "spicemig.forwarded_from"), ["17", "21", "25"])


class ForwardModified(unittest.TestCase):
    CAP = "synthetic/forward-modified.pcapng"

    def test_first_differing_field_named(self):
        rows = fields(self.CAP, "spicemig.forward_modified", "frame.number", "spicemig.forwarded_from",
                      "_ws.expert.message", "spicemig.display.glz_dict.size")
        # The field's label and both values; the timeline says the body came through modified.
        self.assertEqual(rows, [[["281"], ["280"],
                                 ["Forwarded body differs from the source's (frame 280) from offset 60 on: "
                                  "GLZ window size: 6290432 at the source, 6290433 forwarded",
                                  "Migration 1: Display body forwarded to the destination, modified "
                                  "(source frame 280)"],
                                 ["6290433"]]])

    def test_both_copies_say_so(self):
        # The source copy too, though the difference shows in a later frame.
        self.assertEqual(column(self.CAP, "spicemig.forward_identical == 0", "frame.number"), ["280", "281"])
        self.assertEqual(column(self.CAP, "spicemig.forward_identical == 1", "frame.number"),
                         ["276", "277", "284", "296"])
        self.assertEqual(column(self.CAP, "frame.number in {280, 281}", "_ws.col.Info"),
                         ["Display MIGRATE_DATA source\u2192client DCMD v1: 1 surface, GLZ window 6290432 "
                          "[forwarded copy (frame 281) modified]",
                          "Display MIGRATE_DATA client\u2192destination DCMD v1: 1 surface, GLZ window 6290433 "
                          "[differs from frame 280: GLZ window size]"])

    def test_other_bodies_intact(self):
        self.assertEqual(column(self.CAP, "frame.number == 277", "_ws.col.Info"),
                         ["Inputs MIGRATE_DATA client\u2192destination ICMD v1: motion count 0"])
        self.assertEqual(count(self.CAP, "spicemig.forward_missing || spicemig.forward_unmatched"), 0)
        self.assertEqual(count(self.CAP, "spicemig.forwarded_from"), 3)


class LostBodies(unittest.TestCase):
    """A body never forwarded or never sent is in the Info column: of the
    source copy, and of the frame where it became known."""

    def test_never_forwarded(self):
        cap = "synthetic/forward-missing.pcap"
        self.assertEqual(fields(cap, "spicemig.forward_missing || spicemig.forward_missing_in", "frame.number",
                                "_ws.col.Info"),
                         [[["44"], ["Display MIGRATE_DATA source\u2192client DCMD v1: 1 surface, GLZ window 6290432 "
                                    "[never forwarded]"]],
                          [["52"], ["Display ACK_SYNC [display body never forwarded]"]]])

    def test_never_sent(self):
        self.assertEqual(column("synthetic/body-never-sent.pcap", "spicemig.body_never_sent", "_ws.col.Info"),
                         ["Display MARK [display body never sent]"])


if __name__ == "__main__":
    unittest.main()
