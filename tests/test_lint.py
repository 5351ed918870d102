"""tools/spicemig-lint on real captures, on the capture with an altered
forwarded body and on bad arguments: its exact output and exit status. SPICE
over TLS with and without its key log (given, or embedded in the capture),
Malformed packets on SPICE frames. Last, a pure-Python unit test of the
summary and problem logic on fabricated tshark JSON (migration outcomes, the
built-in SPICE dissector's expert infos), for fields no capture has yet."""

import importlib.machinery
import importlib.util
import io
import os
import shutil
import subprocess
import tempfile
import unittest

from spicemig_tshark import CAPTURES, HERE, PLUGIN, fields

LINT = os.path.join(HERE, "..", "tools", "spicemig-lint")
NOT_DECRYPTED = ("%s: %d TLS connections not decrypted (to %s; no key for them in a --keylog-file or in the "
                 "capture): not checked")


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
            "the source's (frame 280) from offset 60 on: GLZ window size: 6290432 at the source, 6290433 forwarded",
            "synthetic/forward-modified.pcapng: 1 migration (seamless), 3 of 3 bodies forwarded, 1 problem",
        ])

    def test_body_error(self):
        status, lines, _ = lint("synthetic/malformed-pointer-out-of-bounds.pcap")
        self.assertEqual(status, 1)
        self.assertEqual(lines, [
            "synthetic/malformed-pointer-out-of-bounds.pcap:13: Display source: error: "
            "Surfaces list offset 5000 + 4 bytes runs past the 88-byte body",
            "synthetic/malformed-pointer-out-of-bounds.pcap: 1 migration (seamless: unknown: the capture ends before "
            "the migration does), 0 of 1 bodies forwarded, 1 problem",
        ])


class Tls(unittest.TestCase):
    """Never clean what could not be read: TLS without its secrets is not checked (exit 3)."""

    def test_without_keys_not_checked(self):
        status, lines, stderr = lint("tls-all-channels.pcapng")
        self.assertEqual((status, stderr), (3, ""))
        self.assertEqual(lines, [
            NOT_DECRYPTED % ("tls-all-channels.pcapng", 8, "127.0.0.1:5911, 127.0.0.1:5913"),
            "tls-all-channels.pcapng: 0 migrations, 0 of 0 bodies forwarded, 0 problems, "
            "8 TLS connections not checked",
        ])

    def test_plain_part_checked_tls_part_not(self):
        # main and display on TLS, inputs and cursor plain: the inputs body is checked.
        status, lines, _ = lint("tls-mixed-ports.pcapng")
        self.assertEqual(status, 3)
        self.assertEqual(lines, [
            NOT_DECRYPTED % ("tls-mixed-ports.pcapng", 4, "127.0.0.1:5911, 127.0.0.1:5913"),
            "tls-mixed-ports.pcapng: 1 migration (seamless), 1 of 1 bodies forwarded, 0 problems, "
            "4 TLS connections not checked",
        ])

    def test_keys_of_other_sessions_not_checked(self):
        status, lines, _ = lint("--keylog-file", "tls-mixed-ports.keys", "tls-all-channels.pcapng")
        self.assertEqual(status, 3)
        self.assertEqual(lines[0], NOT_DECRYPTED % ("tls-all-channels.pcapng", 8, "127.0.0.1:5911, 127.0.0.1:5913"))

    def test_a_problem_outweighs_not_checked(self):
        status, lines, _ = lint("synthetic/forward-modified.pcapng", "tls-all-channels.pcapng")
        self.assertEqual(status, 1)
        self.assertEqual(lines[-1], "tls-all-channels.pcapng: 0 migrations, 0 of 0 bodies forwarded, 0 problems, "
                                    "8 TLS connections not checked")

    def test_keylog_file(self):
        status, lines, stderr = lint("--keylog-file", "tls-all-channels.keys", "tls-all-channels.pcapng")
        self.assertEqual((status, stderr), (0, ""))
        self.assertEqual(lines, [
            "tls-all-channels.pcapng: 1 migration (seamless), 3 of 3 bodies forwarded, 0 problems",
        ])

    def test_several_keylogs_merged_for_every_file(self):
        status, lines, stderr = lint("--keylog-file", "synthetic/tls-several-per-record.keys",
                                     "--keylog-file", "tls-all-channels.keys",
                                     "tls-all-channels.pcapng", "synthetic/tls-several-per-record.pcap")
        self.assertEqual((status, stderr), (0, ""))
        self.assertEqual(lines, [
            "tls-all-channels.pcapng: 1 migration (seamless), 3 of 3 bodies forwarded, 0 problems",
            "synthetic/tls-several-per-record.pcap: 1 migration (seamless), 1 of 1 bodies forwarded, 0 problems",
        ])

    def test_keys_embedded_in_the_capture(self):
        folder = tempfile.mkdtemp(prefix="spicemig-lint-test-")
        self.addCleanup(shutil.rmtree, folder)
        embedded = os.path.join(folder, "tls-all-channels-dsb.pcapng")
        subprocess.run(["editcap", "--inject-secrets", "tls,tls-all-channels.keys", "tls-all-channels.pcapng",
                        embedded], check=True, cwd=CAPTURES)
        status, lines, stderr = lint(embedded, "tls-all-channels.pcapng")
        self.assertEqual((status, stderr), (3, ""))
        self.assertEqual(lines, [
            embedded + ": 1 migration (seamless), 3 of 3 bodies forwarded, 0 problems",
            NOT_DECRYPTED % ("tls-all-channels.pcapng", 8, "127.0.0.1:5911, 127.0.0.1:5913"),
            "tls-all-channels.pcapng: 0 migrations, 0 of 0 bodies forwarded, 0 problems, "
            "8 TLS connections not checked",
        ])

    def test_missing_keylog(self):
        status, lines, stderr = lint("--keylog-file", "no-such.keys", "tls-all-channels.pcapng")
        self.assertEqual((status, lines), (2, []))
        self.assertIn("no-such.keys: no such readable key log", stderr)


class OtherDissectors(unittest.TestCase):
    def test_malformed_on_spice_frames(self):
        # The built-in SPICE dissector throws on the link messages whose capability
        # counts run past the message (frames 4 and 17) and on the replies after them.
        status, lines, _ = lint("synthetic/edge-link-caps.pcap")
        self.assertEqual(status, 1)
        name = "synthetic/edge-link-caps.pcap"
        malformed = "Display unknown role: error (Malformed): Malformed Packet (Exception occurred)"
        too_big = ("Display unknown role: error: Unknown message claims a 3568587328-byte body, more than the "
                   "67108864 bytes of any SPICE message; not SPICE framing")
        caps = "Display unknown role: error: %s common + %s channel capability words at offset %s run past the " \
               "38-byte link message"
        # From Wireshark 4.4 on the built-in also warns of each unknown common
        # capability bit in the server's replies (frames 5 and 18; 4.0 does
        # not): one lint line per warning it raises there.
        unknown_cap = "Unknown common capability"
        builtin = {frame: [message for message in messages if message == unknown_cap]
                   for [frame], messages in fields(name, "frame.number == 5 || frame.number == 18", "frame.number",
                                                   "_ws.expert.message")}
        warning = "Display unknown role: warning (built-in SPICE dissector): " + unknown_cap
        self.assertEqual(lines, [
            "%s:4: %s" % (name, malformed),
            "%s:4: %s" % (name, caps % ("4294967295", "0", "18")),
            *["%s:5: %s" % (name, warning)] * len(builtin["5"]),
            "%s:5: %s" % (name, malformed),
            "%s:9: %s" % (name, too_big),
            "%s:17: %s" % (name, malformed),
            "%s:17: %s" % (name, caps % ("1", "4294967295", "18")),
            *["%s:18: %s" % (name, warning)] * len(builtin["18"]),
            "%s:18: %s" % (name, malformed),
            "%s:22: %s" % (name, too_big),
            "%s:30: %s" % (name, caps % ("1", "0", "4294967280")),
            "%s:35: %s" % (name, too_big),
            "%s:43: %s" % (name, caps % ("1", "0", "2147483647")),
            "%s:48: %s" % (name, too_big),
            "%s:56: %s" % (name, caps % ("1", "0", "19")),
            "%s:61: %s" % (name, too_big),
            "%s: 0 migrations, 0 of 0 bodies forwarded, %d problems"
            % (name, 14 + len(builtin["5"]) + len(builtin["18"])),
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


def lint_module():
    loader = importlib.machinery.SourceFileLoader("spicemig_lint", LINT)
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("spicemig_lint", loader))
    loader.exec_module(module)
    return module


def packet(frame, **layers):
    layers = dict(layers)
    layers["frame"] = {"frame.number": str(frame)}
    return {"_source": {"layers": layers}}


def expert(name, severity, message):
    return {name: "", "_ws.expert.message": message, "_ws.expert.severity": str(severity),
            "_ws.expert.group": "83886080"}


class SummaryUnit(unittest.TestCase):
    """Pure Python, no tshark: check() on fabricated tshark JSON (-T json
    --no-duplicate-keys) for what no committed capture shows: the migration
    outcome fields (spicemig.migration.outcome, .reason, .end) in every
    combination, and warnings of the built-in SPICE dissector (spice.*)."""

    lint = lint_module()

    def check(self, packets):
        out = io.StringIO()
        result = self.lint.check("cap.pcapng", packets, out)
        return result, out.getvalue().splitlines()

    @staticmethod
    def body(frame, migration, hop="source\u2192client", **fields):
        item = {"spicemig.channel.type": "2", "spicemig.role": "source", "spicemig.hop": hop,
                "spicemig.migration.id": str(migration), "spicemig.migration.kind": "seamless"}
        item.update(("spicemig.migration." + key, value) for key, value in fields.items())
        return packet(frame, spicemig=item)

    def test_without_outcome_fields_as_today(self):
        self.assertEqual(self.check([self.body(10, 1)]), (
            (0, 0), ["cap.pcapng: 1 migration (seamless), 0 of 1 bodies forwarded, 0 problems"]))

    def test_completed(self):
        self.assertEqual(self.check([self.body(10, 1, outcome="completed", end="20")]), (
            (0, 0), ["cap.pcapng: 1 migration (seamless), 0 of 1 bodies forwarded, 0 problems"]))

    def test_failed_is_a_problem_at_its_end_frame(self):
        reason = "destination closed its connections before switch-over"
        packets = [self.body(frame, 1, outcome="failed", reason=reason, end="420") for frame in (10, 11, 12)]
        self.assertEqual(self.check(packets), ((1, 0), [
            "cap.pcapng:420: migration 1 failed: " + reason,
            "cap.pcapng: 1 migration (seamless: failed: %s), 0 of 3 bodies forwarded, 1 problem" % reason,
        ]))

    def test_failed_and_cancelled_are_problems_unknown_is_said(self):
        packets = [self.body(10, 1, kind="seamless, fell back to switch-host", outcome="completed", end="50"),
                   self.body(60, 2, kind="semi-seamless", outcome="cancelled", reason="cancelled by the operator",
                             end="70"),
                   self.body(80, 3, kind="switch-host", outcome="unknown")]  # no reason, no end: its last frame
        self.assertEqual(self.check(packets), ((1, 0), [
            "cap.pcapng:70: migration 2 cancelled: cancelled by the operator",
            "cap.pcapng: 3 migrations (seamless, fell back to switch-host; semi-seamless: cancelled: "
            "cancelled by the operator; switch-host: unknown), 0 of 3 bodies forwarded, 1 problem",
        ]))

    def test_builtin_warnings_and_errors_count(self):
        builtin = {"spice.unknown_message": "", "_ws.expert": [
            expert("spice.unknown_message", 0x600000, "Unknown message - cannot dissect"),
            expert("spice.mask_flag.irrelevant", 0x400000, "value irrelevant as bitmap address is 0")]}
        packets = [packet(7, spicemig={"spicemig.channel.type": "2", "spicemig.role": "destination",
                                       "spice": builtin}),
                   packet(8, spice={"_ws.expert": expert("spice.decompress_error", 0x800000,
                                                         "Error: Unable to decompress content")}),
                   # not counted: a note, TCP's warnings, a generic string warning
                   packet(9, tcp={"_ws.expert": expert("tcp.analysis.zero_window", 0x600000, "TCP Zero Window")},
                          spicemig={"spicemig.channel.type": "3", "spice": {"_ws.expert": expert(
                              "_ws.string.trailing_stray_characters", 0x600000, "Trailing stray characters")}})]
        self.assertEqual(self.check(packets), ((2, 0), [
            "cap.pcapng:7: Display destination: warning (built-in SPICE dissector): Unknown message - cannot dissect",
            "cap.pcapng:8: SPICE unknown role: error (built-in SPICE dissector): Error: Unable to decompress content",
            "cap.pcapng: 0 migrations, 0 of 0 bodies forwarded, 2 problems",
        ]))

    def test_tls_records(self):
        def tls(frame, stream, *records, spicemig=None, client_hello=False):
            layers = {"ip": {"ip.src": "10.0.0.1", "ip.dst": "10.0.0.2"},
                      "tcp": {"tcp.stream": str(stream), "tcp.srcport": "40000", "tcp.dstport": "5901"},
                      "tls": {"tls.record": list(records)}}
            if client_hello:
                layers["tls"]["tls.record"].append({"tls.record.content_type": "22",
                                                    "tls.handshake": {"tls.handshake.type": "1"}})
            if spicemig is not None:
                layers["spicemig"] = spicemig
            return packet(frame, **layers)

        opaque = {"tls.record.opaque_type": "23", "tls.app_data": "aa"}
        inner = {"tls.record.opaque_type": "23", "tls.record.content_type": "23"}
        tls12 = {"tls.record.content_type": "23", "tls.app_data": "aa"}
        packets = [tls(1, 0, client_hello=True), tls(2, 0, opaque),           # TLS 1.3, not decrypted
                   tls(3, 1, client_hello=True), tls(4, 1, opaque, inner),    # TLS 1.3, decrypted
                   tls(5, 2, tls12), tls(6, 3, tls12, spicemig={}),           # TLS 1.2: SPICE seen or not
                   tls(7, 4, client_hello=True)]                              # no application data
        self.assertEqual(self.check(packets), ((0, 2), [
            "cap.pcapng: 2 TLS connections not decrypted (to 10.0.0.2:5901; no key for them in a --keylog-file "
            "or in the capture): not checked",
            "cap.pcapng: 0 migrations, 0 of 0 bodies forwarded, 0 problems, 2 TLS connections not checked",
        ]))


if __name__ == "__main__":
    unittest.main()
