"""Every migration path and failure, recorded for real (testcaptures/scenarios.md
says what QEMU 7.2, spice-server 0.15.1 and spice-gtk 0.42 did in each): the
exact kind, outcome, reason and end of each migration, the warning on the
frame where the failure shows (the same on one pass and two), roles and hops
per migration, session ids, nothing left undissected, and the lint's verdict;
the same on copies rewritten to a client and two server hosts on port 5900."""

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from spicemig_tshark import capture, fields, key_log_options, migrations_rows, tshark

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "tools")
SRC, DST = "source", "destination"
LOCAL_SRC, LOCAL_DST, DEAD = "127.0.0.1:5910", "127.0.0.1:5912", "127.0.0.1:5924"
HOST_SRC, HOST_DST = "192.0.2.1:5900", "192.0.2.2:5900"
SEAMLESS_CANCELLED = ("cancelled by the source after the VM migration was cancelled or failed (the capture cannot "
                      "tell which); the VM stays on the source")
FELL_BACK = ("the VM migration completed before the client had connected to the destination: the client followed "
             "by switch-host")


def dst_killed_reason(dst):
    return ("destination %s closed its connections before switch-over: the destination QEMU exited or was killed; "
            "the source cancelled when the VM migration failed (frame 231)" % dst)


def link_refused_reason(dst):
    return ("destination %s refused the client's link (Permission denied, frame 153), and again after "
            "MIGRATE_SWITCH_HOST: the client has no connection left" % dst)


UNREACHABLE = ("destination unreachable: the client could not connect to it (frame 141), and did not reach it "
               "after MIGRATE_SWITCH_HOST")
SRC_GONE = ("the source's connections closed before switch-over: the source QEMU stopped, or the client left it "
            "(the capture cannot tell which)")
GUEST_SRC, GUEST_DST = "127.0.0.1:5930", "127.0.0.1:5932"


def src_closed_without(channel):
    return ("after MIGRATE the source closed its connections without sending the %s channel's migrate data: the "
            "source QEMU ended (aborted or killed) or spice-server dropped the client (the capture cannot tell which)"
            % channel)

# capture: {
#   "migrations": [(kind, outcome, reason or None, begin, end, source, destination)], the destination as
#                 the source named it where the client never reached it,
#   "problems":   [(frame, expert)] every warning or error of spicemig or the built-in SPICE dissector,
#   "roles":      [roles of each TCP stream's spicemig items], in stream order,
#   "sessions":   [session id of each TCP stream ("" for none)],
#   "new_session": the session id the client got by relinking after switch-host,
#   "lint":       (exit status, summary line, problem lines),
#   "rewrite":    the capture's destination port for tools/rewrite-capture-hosts }
SCENARIOS = {
    "semi-seamless.pcapng": {
        "migrations": [("semi-seamless", "completed", None, 141, 216, LOCAL_SRC, LOCAL_DST)],
        "problems": [],
        "roles": [[SRC]] * 4 + [[DST]] * 4,
        "sessions": ["0x501f99ba"] * 8,
        "lint": (0, "1 migration (semi-seamless), 0 of 0 bodies forwarded, 0 problems", []),
    },
    "switch-host.pcapng": {
        "migrations": [("seamless, fell back to switch-host", "completed", FELL_BACK, 140, 248, LOCAL_SRC,
                        LOCAL_DST)],
        "problems": [],
        "roles": [[SRC]] * 4 + [[DST]] * 8,
        "sessions": ["0x69cee0cd"] * 8 + ["0x05dd0271"] * 4,
        "new_session": "0x05dd0271",
        "relink": 228,
        "lint": (0, "1 migration (seamless, fell back to switch-host: completed: %s), 0 of 0 bodies forwarded, "
                 "0 problems" % FELL_BACK, []),
    },
    "switch-host-late-client.pcapng": {
        "migrations": [("switch-host", "completed", None, 116, 144, LOCAL_SRC, LOCAL_DST)],
        "problems": [],
        "roles": [[SRC]] * 4 + [[DST]] * 4,
        "sessions": ["0x3ff0f3a2"] * 4 + ["0xabd5c43c"] * 4,
        "new_session": "0xabd5c43c",
        "relink": 128,
        "lint": (0, "1 migration (switch-host), 0 of 0 bodies forwarded, 0 problems", []),
    },
    "cancelled.pcapng": {
        "migrations": [("seamless", "cancelled", SEAMLESS_CANCELLED, 138, 223, LOCAL_SRC, LOCAL_DST)],
        "problems": [(223, "spicemig.migration.cancelled")],
        "roles": [[SRC]] * 4 + [[DST]] * 4,
        "sessions": ["0xc84760cb"] * 8,
        "lint": (1, "1 migration (seamless: cancelled: %s), 0 of 0 bodies forwarded, 1 problem" % SEAMLESS_CANCELLED,
                 ["223: migration 1 cancelled: " + SEAMLESS_CANCELLED]),
    },
    "connect-error.pcapng": {
        "migrations": [("seamless, fell back to switch-host", "failed", UNREACHABLE, 138, 143, LOCAL_SRC, DEAD)],
        "problems": [(141, "spicemig.migration.setback")],
        "roles": [[SRC]] * 4,
        "sessions": ["0x6201cd88"] * 4,
        "rewrite": 5924,
        "lint": (1, "1 migration (seamless, fell back to switch-host: failed: %s), 0 of 0 bodies forwarded, "
                 "2 problems" % UNREACHABLE,
                 ["141: Main source: warning: Migration 1: the client could not connect to the destination "
                  "(MIGRATE_CONNECT_ERROR)", "143: migration 1 failed: " + UNREACHABLE]),
    },
    "dst-nack.pcapng": {
        "migrations": [("seamless, fell back to semi-seamless", "completed", None, 139, 221, LOCAL_SRC,
                        LOCAL_DST)],
        # The NACK is a note (spicemig.migration.fallback): spice-gtk goes on semi-seamless.
        "problems": [],
        "roles": [[SRC]] * 4 + [[DST]] * 4,
        "sessions": ["0x9a4441d6"] * 8,
        "lint": (0, "1 migration (seamless, fell back to semi-seamless), 0 of 0 bodies forwarded, 0 problems", []),
    },
    "dst-killed.pcapng": {
        "migrations": [("seamless", "failed", dst_killed_reason(LOCAL_DST), 137, 231, LOCAL_SRC, LOCAL_DST)],
        "problems": [(223, "spicemig.migration.failed")],
        "roles": [[SRC]] * 4 + [[DST]] * 4,
        "sessions": ["0xdb3b7ff0"] * 8,
        "lint": (1, "1 migration (seamless: failed: %s), 0 of 0 bodies forwarded, 1 problem"
                 % dst_killed_reason(LOCAL_DST), ["231: migration 1 failed: " + dst_killed_reason(LOCAL_DST)]),
    },
    "src-killed.pcapng": {
        "migrations": [("seamless", "failed", SRC_GONE, 142, 225, LOCAL_SRC, LOCAL_DST)],
        "problems": [(225, "spicemig.migration.failed")],
        "roles": [[SRC]] * 4 + [[DST]] * 4,
        "sessions": ["0xc88ad678"] * 8,
        "lint": (1, "1 migration (seamless: failed: %s), 0 of 0 bodies forwarded, 1 problem" % SRC_GONE,
                 ["225: migration 1 failed: " + SRC_GONE]),
    },
    "dst-link-refused.pcapng": {
        "migrations": [("seamless, fell back to switch-host", "failed", link_refused_reason(LOCAL_DST), 138, 186,
                        LOCAL_SRC, LOCAL_DST)],
        "problems": [(153, "spicemig.migration.setback"), (157, "spicemig.migration.setback"),
                     (186, "spicemig.migration.failed")],
        "roles": [[SRC]] * 4 + [[DST]] * 2,
        "sessions": ["0x5620d73d"] * 5 + [""],
        "relink": 169,
        "lint": (1, "1 migration (seamless, fell back to switch-host: failed: %s), 0 of 0 bodies forwarded, "
                 "3 problems" % link_refused_reason(LOCAL_DST),
                 ["153: Main destination: warning: Migration 1: the destination refused the client's link "
                  "(Permission denied)",
                  "157: Main source: warning: Migration 1: the client could not connect to the destination "
                  "(MIGRATE_CONNECT_ERROR)",
                  "186: migration 1 failed: " + link_refused_reason(LOCAL_DST)]),
    },
    # The guest desktop paused (QMP stop) during the migration with the agent
    # busy: spice-server 0.15.1 aborts the source QEMU writing MNMD.
    "guest-paused-source-abort.pcapng": {
        "migrations": [("seamless", "failed", src_closed_without("Main"), 163, 544, GUEST_SRC, GUEST_DST)],
        # AGENT_DATA after main's MIGRATE (471), then the source's FINs (544-547).
        "problems": [(473, "spicemig.body_never_sent"), (544, "spicemig.migration.failed")],
        "roles": [[SRC]] * 4 + [[DST]] * 4,
        "sessions": ["0xa166fac3"] * 8,
        "src_port": 5930,
        "rewrite": 5932,
        "lint": (1, "1 migration (seamless: failed: %s), 2 of 2 bodies forwarded, 2 problems" % src_closed_without("Main"),
                 ["473: Main source: warning: MIGRATE (frame 471) asks for NEED_DATA_TRANSFER, but the source sends "
                  "AGENT_DATA next on the Main channel, not its MIGRATE_DATA: the client forwards nothing",
                  "544: migration 1 failed: " + src_closed_without("Main")]),
    },
    "ping-pong.pcapng": {
        "migrations": [("seamless", "completed", None, 138, 256, LOCAL_SRC, LOCAL_DST),
                       ("seamless", "completed", None, 309, 440, LOCAL_DST, LOCAL_SRC)],
        "problems": [],
        # B's connections: the destination of the first migration, then the source of the second.
        "roles": [[SRC]] * 4 + [[DST, SRC]] * 4 + [[DST]] * 4,
        "sessions": ["0x37e33834"] * 12,
        "lint": (0, "2 migrations (seamless; seamless), 6 of 6 bodies forwarded, 0 problems", []),
    },
}
# What the hosts' rewrite changes in the expectations.
LOCAL_TO_HOSTS = {LOCAL_SRC: HOST_SRC, LOCAL_DST: HOST_DST, DEAD: HOST_DST, GUEST_SRC: HOST_SRC, GUEST_DST: HOST_DST}

_rewritten = tempfile.mkdtemp(prefix="spicemig-scenarios-")
atexit.register(shutil.rmtree, _rewritten, ignore_errors=True)


def three_hosts(name):
    """The capture rewritten as if taken at a client 192.0.2.10 between
    source 192.0.2.1:5900 and destination 192.0.2.2:5900 (a path relative to
    testcaptures/, for capture())."""
    out = os.path.join(_rewritten, name)
    if not os.path.exists(out):
        subprocess.run([sys.executable, os.path.join(TOOLS, "rewrite-capture-hosts"), capture(name), out,
                        "--src-port", str(SCENARIOS[name].get("src_port", 5910)),
                        "--dst-port", str(SCENARIOS[name].get("rewrite", 5912))],
                       check=True, stdout=subprocess.DEVNULL)
        os.chmod(_rewritten, 0o755)
        os.chmod(out, 0o644)
    return os.path.relpath(out, capture(""))


def on_hosts(text):
    for local, host in LOCAL_TO_HOSTS.items():
        text = text.replace(local, host)
    return text


def problems(capture_name, two_pass, key_log=None):
    """(frame, expert) of every warning or error that spicemig or the built-in
    SPICE dissector raises, and every Malformed, in one tshark run."""
    args = ["-r", capture(capture_name), "-T", "json", "--no-duplicate-keys", "-Y", "_ws.expert.severity >= 6291456"]
    if two_pass:
        args.append("-2")
    if key_log:
        args += key_log_options(key_log)
    found = []

    def walk(frame, node):
        if isinstance(node, list):
            for item in node:
                walk(frame, item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key == "_ws.expert":
                    for expert in value if isinstance(value, list) else [value]:
                        if int(expert.get("_ws.expert.severity", "0")) < 0x600000:
                            continue
                        for name in expert:
                            if name.startswith(("spicemig.", "spice.", "_ws.malformed")):
                                found.append((frame, name))
                else:
                    walk(frame, value)

    for packet in json.loads(tshark(*args) or "[]"):
        layers = packet["_source"]["layers"]
        walk(int(layers["frame"]["frame.number"]), layers)
    return sorted(found)


class Scenario:
    """The assertions of one committed capture; `hosts` for its three-host copy."""
    hosts = False

    def name(self):
        return three_hosts(self.capture_name) if self.hosts else self.capture_name

    def expected(self, value):
        return on_hosts(value) if self.hosts and isinstance(value, str) else value

    def test_migrations(self):
        rows = fields(self.name(), "spicemig.migration.id", "spicemig.migration.id", "spicemig.migration.kind",
                      "spicemig.migration.outcome", "spicemig.migration.reason", "spicemig.migration.begin",
                      "spicemig.migration.end", "spicemig.migration.source", "spicemig.migration.destination",
                      "frame.number")
        found = {}
        for number, kind, outcome, reason, begin, end, source, destination, frame in rows:
            # The beginning frame names no "Began in": it is the frame itself.
            found.setdefault(int(number[0]), set()).add(
                (kind[0], outcome[0], reason[0] if reason else None, int(begin[0]) if begin else int(frame[0]),
                 int(end[0]), source[0], destination[0]))
        expected = {number: {tuple(self.expected(value) for value in migration)}
                    for number, migration in enumerate(SCENARIOS[self.capture_name]["migrations"], 1)}
        self.assertEqual(found, expected)

    def test_problems_at_their_frames_on_one_pass_and_two(self):
        expected = SCENARIOS[self.capture_name]["problems"]
        self.assertEqual(problems(self.name(), two_pass=True), expected)
        self.assertEqual(problems(self.name(), two_pass=False), expected)

    def test_roles_and_sessions_per_connection(self):
        scenario = SCENARIOS[self.capture_name]
        roles, sessions = {}, {}
        for stream, role, session in fields(self.name(), "spicemig", "tcp.stream", "spicemig.role",
                                            "spicemig.session_id"):
            stream = int(stream[0])
            if role and role[0] not in roles.setdefault(stream, []):
                roles[stream].append(role[0])
            if session:
                sessions.setdefault(stream, session[0])
        self.assertEqual([roles.get(stream, []) for stream in range(len(scenario["roles"]))], scenario["roles"])
        self.assertEqual([sessions.get(stream, "") for stream in range(len(scenario["sessions"]))],
                         scenario["sessions"])

    def test_hops_follow_the_migration(self):
        # A body sent by a server goes source→client, a body the client sends
        # goes client→destination, whatever the server was before.
        for direction, hop in fields(self.name(), "spicemig.hop", "spicemig.direction", "spicemig.hop"):
            self.assertEqual(hop, ["source\u2192client" if direction == ["1"] else "client\u2192destination"])

    def test_switch_host_relink_joins_its_migration(self):
        scenario = SCENARIOS[self.capture_name]
        if "relink" not in scenario:
            self.skipTest("no relink in this scenario")
        rows = fields(self.name(), "spicemig.migration.relink", "spicemig.migration.relink",
                      "spicemig.migration.new_session_id")
        self.assertEqual({(relink[0], new[0] if new else None) for relink, new in rows},
                         {(str(scenario["relink"]), scenario.get("new_session"))})

    def test_nothing_undissected(self):
        # Retransmitted and out-of-order segments are TCP's: their bytes come
        # again in the segments SPICE is read from (guest-paused-source-abort's
        # frame 524, out of order behind a small receive buffer, is handed no
        # dissector by Wireshark 4.0 and 4.4, and reassembled by 4.6).
        self.assertEqual(fields(self.name(), "tcp.len>0 && !spice && !spicemig && !tcp.reassembled_in && "
                                "!tcp.analysis.retransmission && !tcp.analysis.out_of_order", "frame.number"), [])

    def test_lint(self):
        status, summary, lines = SCENARIOS[self.capture_name]["lint"]
        path = capture(self.name())
        proc = subprocess.run([sys.executable, os.path.join(TOOLS, "spicemig-lint"), "--plugin",
                               os.environ["SPICEMIG_PLUGIN"], path], capture_output=True, text=True, timeout=300)
        self.assertEqual((proc.returncode, proc.stdout.splitlines()),
                         (status, ["%s:%s" % (path, self.expected(line)) for line in lines]
                          + ["%s: %s" % (path, self.expected(summary))]), proc.stderr)


def scenario_class(capture_name, hosts):
    title = "".join(part.title() for part in capture_name[:-len(".pcapng")].split("-"))
    return type(title + ("ThreeHosts" if hosts else ""), (Scenario, unittest.TestCase),
                {"capture_name": capture_name, "hosts": hosts})


for _name in SCENARIOS:
    for _hosts in (False, True):
        _case = scenario_class(_name, _hosts)
        globals()[_case.__name__] = _case


class BodiesKnownWhereTheyGoAstray(unittest.TestCase):
    """A body the source never sends, or the client never forwards, is
    reported where that becomes known, on one pass too."""

    def test_forward_missing_at_the_clients_first_other_message(self):
        name = "synthetic/forward-missing.pcap"
        expected = [(52, "spicemig.forward_missing")]
        self.assertEqual(problems(name, two_pass=False), expected)
        self.assertEqual(problems(name, two_pass=True), expected)
        self.assertEqual(fields(name, "spicemig.forward_missing", "_ws.expert.message"), [[[
            "The client never forwarded the Display body (source frame 44) to the destination 127.0.0.1:5932: "
            "its first message there is ACK_SYNC"]]])
        # The source copy links to where it became known.
        self.assertEqual(fields(name, "spicemig.forward_missing_in", "frame.number", "spicemig.forward_missing_in"),
                         [[["44"], ["52"]]])

    def test_body_never_sent_at_the_sources_next_message(self):
        name = "synthetic/body-never-sent.pcap"
        # The source's FIN right after fails the migration.
        expected = [(44, "spicemig.body_never_sent"), (45, "spicemig.migration.failed")]
        self.assertEqual(problems(name, two_pass=False), expected)
        self.assertEqual(problems(name, two_pass=True), expected)
        self.assertEqual(fields(name, "spicemig.body_never_sent", "_ws.expert.message"), [[[
            "MIGRATE (frame 42) asks for NEED_DATA_TRANSFER, but the source sends MARK next on the Display "
            "channel, not its MIGRATE_DATA: the client forwards nothing"]]])

    def test_body_never_sent_at_the_sources_close(self):
        # The source server closing a channel between MIGRATE and its body
        # also fails the migration, on the same frame.
        name = "synthetic/body-never-sent-close.pcap"
        expected = [(47, "spicemig.body_never_sent"), (47, "spicemig.migration.failed")]
        self.assertEqual(problems(name, two_pass=False), expected)
        self.assertEqual(problems(name, two_pass=True), expected)
        # TCP's own notes on the FIN come first.
        [[messages]] = fields(name, "spicemig.body_never_sent", "_ws.expert.message")
        self.assertEqual(messages[-2:], [
            "MIGRATE (frame 42) asks for NEED_DATA_TRANSFER, but the source closes the connection next on the "
            "Display channel, not its MIGRATE_DATA: the client forwards nothing",
            "Migration 1 failed: " + src_closed_without("Display")])

    def test_resumed_drawing_milestone_on_one_pass(self):
        for two_pass in (False, True):
            self.assertEqual(fields("seamless-default.pcapng", "spicemig.milestone", "frame.number",
                                    two_pass=two_pass)[-1], [["316"]])


SRC_CLOSED_BEFORE_MAIN_BODY = src_closed_without("Main")


class SourceClosedBeforeMainBody(unittest.TestCase):
    """The source closes after MIGRATE, before the main channel's MNMD, once
    the display body has reached the destination (as spice-server 0.15.1
    does when it aborts the source QEMU in reds_marshall_migrate_data): the
    migration failed there, on one pass and two, not completed by the
    display body forwarded before."""
    name = "synthetic/source-closed-before-main-body.pcap"

    def test_outcome(self):
        # Main's MIGRATE (43) once the capture has been read; the source's FIN
        # on main (45) on one pass too.
        for flt, two_pass in (("frame.number == 43", True), ("frame.number == 45", True),
                              ("frame.number == 45", False)):
            rows = fields(self.name, flt, "spicemig.migration.kind", "spicemig.migration.outcome",
                          "spicemig.migration.reason", "spicemig.migration.end", two_pass=two_pass)
            self.assertEqual(rows, [[["seamless"], ["failed"], [SRC_CLOSED_BEFORE_MAIN_BODY], ["45"]]],
                             (flt, two_pass))

    def test_failure_at_the_mains_close_on_one_pass_and_two(self):
        # Frame 45: the source's FIN on main. No warning on main's MIGRATE (43).
        expected = [(45, "spicemig.body_never_sent"), (45, "spicemig.migration.failed")]
        self.assertEqual(problems(self.name, two_pass=True), expected)
        self.assertEqual(problems(self.name, two_pass=False), expected)
        [[messages]] = fields(self.name, "spicemig.migration.failed", "_ws.expert.message")
        self.assertEqual(messages[-2:], [
            "MIGRATE (frame 43) asks for NEED_DATA_TRANSFER, but the source closes the connection next on the "
            "Main channel, not its MIGRATE_DATA: the client forwards nothing",
            "Migration 1 failed: " + SRC_CLOSED_BEFORE_MAIN_BODY])

    def test_no_mnmd_and_nothing_malformed(self):
        self.assertEqual(fields(self.name, 'spicemig.magic == "MNMD"', "frame.number"), [])
        self.assertEqual(fields(self.name, 'spicemig.magic == "DCMD"', "frame.number", "spicemig.hop"),
                         [[["41"], ["source\u2192client"]], [["42"], ["client\u2192destination"]]])
        self.assertEqual(fields(self.name, "_ws.malformed", "frame.number"), [])

    def test_migrations_table(self):
        rows = migrations_rows(tshark("-r", capture(self.name), "-2", "-q", "-z", "spicemig,migrations"))
        self.assertEqual([(r["Kind"], r["Outcome"], r["End"], r["Sent"], r["Forwarded"], r["Missing"], r["Reason"])
                          for r in rows],
                         [("seamless", "failed", "45", "1", "1", "0", SRC_CLOSED_BEFORE_MAIN_BODY)])

    def test_lint(self):
        path = capture(self.name)
        proc = subprocess.run([sys.executable, os.path.join(TOOLS, "spicemig-lint"), "--plugin",
                               os.environ["SPICEMIG_PLUGIN"], path], capture_output=True, text=True, timeout=300)
        self.assertEqual((proc.returncode, proc.stdout.splitlines()), (1, [
            "%s:45: SPICE source: warning: MIGRATE (frame 43) asks for NEED_DATA_TRANSFER, but the source closes "
            "the connection next on the Main channel, not its MIGRATE_DATA: the client forwards nothing" % path,
            "%s:45: migration 1 failed: %s" % (path, SRC_CLOSED_BEFORE_MAIN_BODY),
            "%s: 1 migration (seamless: failed: %s), 1 of 1 bodies forwarded, 2 problems"
            % (path, SRC_CLOSED_BEFORE_MAIN_BODY)]), proc.stderr)


class OnePassTruth(unittest.TestCase):
    """Every problem a filter finds on two passes it finds on one, at the same
    frame, on every capture in testcaptures/ (TLS ones with their key logs)."""

    def test_every_capture(self):
        root = capture("")
        names = sorted(name for name in os.listdir(root) if name.endswith(".pcapng"))
        names += sorted("synthetic/" + name for name in os.listdir(os.path.join(root, "synthetic"))
                        if name.endswith((".pcap", ".pcapng")))
        for name in names:
            stem = name.rsplit(".", 1)[0]
            key_log = stem + ".keys" if os.path.exists(os.path.join(root, stem + ".keys")) else None
            with self.subTest(capture=name):
                self.assertEqual(problems(name, False, key_log), problems(name, True, key_log))


if __name__ == "__main__":
    unittest.main()
