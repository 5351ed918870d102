"""Real seamless migrations recorded on the newer stacks Debian ships: Debian 13
(trixie: QEMU 10.0, spice-server 0.15.2, spice-gtk 0.42) and Debian unstable
(sid: QEMU 11.1, spice-server 0.16.0, spice-gtk 0.42), each with
tools/chroot-record in a chroot of that release (testcaptures/README.md).

One table, one row per capture: every field of every migrate-data body (both
copies), the frames they are in, the source's MAIN_INIT and
MIGRATE_BEGIN_SEAMLESS, the session, and the migration's kind and outcome.
The expected values were read without spicemig: the recorder's --summarize
and tools/spicestream.py's framing for plain TCP, the application data that
tshark decrypts with the key log (spicemig off, no SPICE dissector) for TLS."""

import contextlib
import importlib.machinery
import importlib.util
import io
import os
import shutil
import sys
import tempfile
import unittest
import unittest.mock

from spicemig_tshark import HERE, PLUGIN, capture, count, experts, fields, key_log_options, migrations_rows, tshark
from test_migrate_data import CHARDEV_FIELDS, MAIN_FIELDS

SOURCE, DESTINATION = "127.0.0.1:5950", "127.0.0.1:5952"
TLS_SOURCE, TLS_DESTINATION = "127.0.0.1:5951", "127.0.0.1:5953"
MAIN, DISPLAY, INPUTS, USBREDIR, PORT, WEBDAV = 1, 2, 3, 9, 10, 11
UNLIMITED = "4294967295"


def display(serial, last_image):
    """The DCMD of every capture here: spice-gtk's cache and GLZ window, one
    lossless surface 0; message serial and last GLZ image depend on how long
    the VM drew."""
    return {
        "spicemig.msg.size": "88", "spicemig.version": "1", "spicemig.display.message_serial": str(serial),
        "spicemig.display.low_bandwidth": "0", "spicemig.display.pixmap_cache.id": "1",
        "spicemig.display.pixmap_cache.size": "20971520", "spicemig.display.pixmap_cache.freezer": "1",
        "spicemig.display.pixmap_cache.client": ["0"] * 4, "spicemig.display.glz_dict.id": "1",
        "spicemig.display.glz_dict.size": "6290432", "spicemig.display.glz_dict.max_encoders": "4",
        "spicemig.display.glz_dict.last_image_id": str(last_image), "spicemig.display.surfaces_ptr": "80",
        "spicemig.display.surfaces.count": "1", "spicemig.display.surfaces.lossy": "0",
        "spicemig.display.surface.id": "0",
    }


def chardev(connected, client_tokens, send_tokens, write_size="0", write_tokens="0", write_ptr="0"):
    return dict(zip(CHARDEV_FIELDS, ["1", connected, client_tokens, send_tokens, write_size, write_tokens,
                                     write_ptr]))


# MNMD of a VM without an agent: char device version 1, everything else 0.
NO_AGENT = {"spicemig.msg.size": "65", "spicemig.version": "1", **chardev("0", "0", "0"),
            **{name: "0" for name in MAIN_FIELDS}}
# MNMD of the guest desktop with its agent connected, nothing in flight:
# client tokens 8, send tokens ~0 less the 3 agent messages the server sent,
# and the header of the agent's last message (28 bytes on port 1) left behind.
AGENT_IDLE = {"spicemig.msg.size": "65", "spicemig.version": "1", **chardev("1", "8", "4294967292"),
              **{name: "0" for name in MAIN_FIELDS}, "spicemig.main.client_agent_started": "1",
              "spicemig.main.agent2client.chunk_header.port": "1",
              "spicemig.main.agent2client.chunk_header.size": "28"}
INPUTS_STATE = {"spicemig.msg.size": "10", "spicemig.version": "1", "spicemig.inputs.motion_count": "0"}
# usbredir, port and webdav: a char device without flow control.
SPICEVMC = {"spicemig.msg.size": "33", "spicemig.version": "1", **chardev("1", UNLIMITED, UNLIMITED)}


# The source's MAIN_INIT besides session id and multimedia time: one display,
# server mouse mode only (in use), no agent, 10 tokens.
MAIN_INIT_FIELDS = ["spicemig.main_init.display_channels_hint", "spicemig.main_init.supported_mouse_modes",
                    "spicemig.main_init.current_mouse_mode", "spicemig.main_init.agent_connected",
                    "spicemig.main_init.agent_tokens", "spicemig.main_init.ram_hint"]
MAIN_INIT_NO_AGENT = [["1"], ["0x00000001"], ["1"], ["0"], ["10"], ["50323456"]]
# With the guest's agent: client mouse mode supported too, server mode in use.
MAIN_INIT_AGENT = [["1"], ["0x00000003"], ["1"], ["1"], ["10"], ["50323456"]]
# Informational expert infos on valid traffic: the migration's timeline, and
# the built-in's notes on draw masks without a bitmap.
INFORMATIONAL = {"spice.mask_flag.irrelevant", "spice.mask_point.irrelevant"}


class Stack:
    """One capture: key log (TLS), source and destination, the source's
    MAIN_INIT (frame, session id, multimedia time), MIGRATE_BEGIN_SEAMLESS
    (frame, destination port, TLS port, cert subject), and the bodies as
    (magic, channel type, source's frame, forwarded frame, field values).
    Frames are those that complete the message: over TLS spice-server writes
    MIGRATE_BEGIN_SEAMLESS as 5 records, one TCP segment each."""

    def __init__(self, key_log, servers, main_init, begin, bodies, main_init_rest=None, notes=None):
        self.key_log = key_log
        self.source, self.destination = servers
        self.main_init = main_init
        self.main_init_rest = main_init_rest or MAIN_INIT_NO_AGENT
        self.begin = begin
        self.bodies = bodies
        # spicemig's notes beyond the timeline: expert field -> its messages.
        self.notes = notes or {}


BEGIN_PLAIN = ("5952", "65535", [])
BEGIN_TLS = ("0", "5953", ["O=spicemig test,CN=127.0.0.1"])

STACKS = {
    "spice-0.15.2-seamless.pcapng": Stack(
        None, (SOURCE, DESTINATION), ("16", "0x2ff6871c", "22807892"), ("169",) + BEGIN_PLAIN, [
            ("DCMD", DISPLAY, "278", "280", display(35, 25)),
            ("ICMD", INPUTS, "277", "283", INPUTS_STATE),
            ("MNMD", MAIN, "286", "290", NO_AGENT)]),
    "spice-0.16.0-seamless.pcapng": Stack(
        None, (SOURCE, DESTINATION), ("16", "0x299603bf", "22919868"), ("173",) + BEGIN_PLAIN, [
            ("DCMD", DISPLAY, "281", "282", display(36, 26)),
            ("ICMD", INPUTS, "276", "280", INPUTS_STATE),
            ("MNMD", MAIN, "283", "289", NO_AGENT)]),
    "spice-0.15.2-extra-channels.pcapng": Stack(
        None, (SOURCE, DESTINATION), ("17", "0xbfb262e2", "22826466"), ("243",) + BEGIN_PLAIN, [
            ("DCMD", DISPLAY, "394", "395", display(45, 35)),
            ("ICMD", INPUTS, "421", "422", INPUTS_STATE),
            ("MNMD", MAIN, "415", "416", NO_AGENT),
            ("SVMD", USBREDIR, "419", "420", SPICEVMC),
            ("SVMD", PORT, "426", "436", SPICEVMC),
            ("SVMD", WEBDAV, "425", "427", SPICEVMC)]),
    "spice-0.16.0-extra-channels.pcapng": Stack(
        None, (SOURCE, DESTINATION), ("16", "0x791d1e8e", "22933124"), ("251",) + BEGIN_PLAIN, [
            ("DCMD", DISPLAY, "423", "432", display(85, 75)),
            ("ICMD", INPUTS, "419", "431", INPUTS_STATE),
            ("MNMD", MAIN, "418", "447", NO_AGENT),
            ("SVMD", USBREDIR, "422", "424", SPICEVMC),
            ("SVMD", PORT, "420", "428", SPICEVMC),
            ("SVMD", WEBDAV, "421", "425", SPICEVMC)]),
    "spice-0.15.2-tls.pcapng": Stack(
        "spice-0.15.2-tls.keys", (TLS_SOURCE, TLS_DESTINATION), ("21", "0x3811937c", "22842928"),
        ("208",) + BEGIN_TLS, [
            ("DCMD", DISPLAY, "336", "337", display(35, 25)),
            ("ICMD", INPUTS, "348", "352", INPUTS_STATE),
            ("MNMD", MAIN, "343", "345", NO_AGENT)]),
    "spice-0.16.0-tls.pcapng": Stack(
        "spice-0.16.0-tls.keys", (TLS_SOURCE, TLS_DESTINATION), ("21", "0x4ac7b672", "22946533"),
        ("210",) + BEGIN_TLS, [
            ("DCMD", DISPLAY, "328", "330", display(36, 26)),
            ("ICMD", INPUTS, "329", "333", INPUTS_STATE),
            ("MNMD", MAIN, "338", "342", NO_AGENT)]),
    # The guest desktop (tools/make-migration-capture --guest): the agent
    # connected; its file copy and clipboard request were over, as far as
    # spice-server is concerned, before the VM stopped (see README).
    "spice-0.15.2-guest.pcapng": Stack(
        None, (SOURCE, DESTINATION), ("16", "0xf7870c0e", "23336054"), ("147",) + BEGIN_PLAIN, [
            ("DCMD", DISPLAY, "1034", "1051", display(47, 10)),
            ("ICMD", INPUTS, "1033", "1041", INPUTS_STATE),
            ("MNMD", MAIN, "1032", "1035", AGENT_IDLE)],
        main_init_rest=MAIN_INIT_AGENT),
    # The same on sid, the agent busy: the write queue holds 10 chunks of
    # file data, 38944 bytes of the client's FILE_XFER_DATA are still to come.
    "spice-0.16.0-guest.pcapng": Stack(
        None, (SOURCE, DESTINATION), ("16", "0xd7f79213", "24426649"), ("154",) + BEGIN_PLAIN, [
            ("DCMD", DISPLAY, "607", "619", display(31, 17)),
            ("ICMD", INPUTS, "593", "602", INPUTS_STATE),
            ("MNMD", MAIN, "594", "596", dict(AGENT_IDLE, **{
                "spicemig.msg.size": "20625", **chardev("1", "0", "4294967292", "20560", "10", "65"),
                "spicemig.main.client2agent.msg_remaining": "38944"}))],
        main_init_rest=MAIN_INIT_AGENT,
        # The FILE_XFER_DATA cut by the migration (26624 + 38944 bytes), and
        # the next one, which the capture's end cuts (65568 + 14336 of the
        # 118848 bytes the client sent the destination after the 38944).
        notes={"spicemig.agent.unfinished": [
            "Agent message FILE_XFER_DATA not finished: 14336 of 65568 bytes in the capture (the capture or this "
            "connection ends before the rest)",
            "Agent message FILE_XFER_DATA not finished: 26624 of 65568 bytes in the capture (the capture or this "
            "connection ends before the rest)"]}),
}

class NewerStacks(unittest.TestCase):
    def rows(self, name, display_filter, *names):
        return fields(name, display_filter, *names, key_log=STACKS[name].key_log)

    def test_every_body_field_in_both_copies(self):
        for name, stack in STACKS.items():
            for magic, channel, sent, forwarded, expected in stack.bodies:
                with self.subTest(capture=name, magic=magic, channel=channel):
                    rows = self.rows(name, 'spicemig.magic == "%s" && spicemig.channel.type == %d' % (magic, channel),
                                     "frame.number", "spicemig.msg.type", "spicemig.hop.ascii", *expected)
                    self.assertEqual([row[:3] for row in rows],
                                     [[[sent], ["2"], ["source->client"]],
                                      [[forwarded], ["5"], ["client->destination"]]])
                    want = [value if isinstance(value, list) else [value] for value in expected.values()]
                    self.assertEqual([row[3:] for row in rows], [want, want])

    def test_every_body_asserted(self):
        # No body beyond the table's: each magic on each channel once per copy.
        for name, stack in STACKS.items():
            got = sorted((row[0][0], row[1][0]) for row in self.rows(name, "spicemig.magic", "spicemig.magic",
                                                                     "spicemig.channel.type"))
            self.assertEqual(got, sorted([(magic, str(channel)) for magic, channel, *_ in stack.bodies] * 2), name)

    def test_forwarded_unchanged(self):
        for name, stack in STACKS.items():
            rows = self.rows(name, "spicemig.magic", "frame.number", "spicemig.forward_identical",
                             "spicemig.forwarded_from", "spicemig.forwarded_in")
            want = sorted([[[sent], ["1"], [], [forwarded]] for _m, _c, sent, forwarded, _v in stack.bodies]
                          + [[[forwarded], ["1"], [sent], []] for _m, _c, sent, forwarded, _v in stack.bodies],
                          key=lambda row: int(row[0][0]))
            self.assertEqual(rows, want, name)
            self.assertEqual(count(name, "spicemig.forward_modified || spicemig.forward_missing || "
                                   "spicemig.forward_unmatched", key_log=stack.key_log), 0, name)

    def test_main_init(self):
        for name, stack in STACKS.items():
            frame, session, mm_time = stack.main_init
            rows = self.rows(name, "spicemig.main_init.session_id && spicemig.role == \"source\"", "frame.number",
                             "spicemig.main_init.session_id", "spicemig.main_init.multi_media_time",
                             *MAIN_INIT_FIELDS)
            self.assertEqual(rows, [[[frame], [session], [mm_time]] + stack.main_init_rest], name)

    def test_one_session_on_both_servers(self):
        for name, stack in STACKS.items():
            sessions = {row[0][0] for row in self.rows(name, "spicemig.session_id", "spicemig.session_id")}
            self.assertEqual(sessions, {stack.main_init[1]}, name)

    def test_begin_seamless(self):
        for name, stack in STACKS.items():
            frame, port, sport, subject = stack.begin
            rows = self.rows(name, "spicemig.dst_info.host", "frame.number", "spicemig.dst_info.port",
                             "spicemig.dst_info.sport", "spicemig.dst_info.host", "spicemig.dst_info.cert_subject",
                             "spicemig.src_mig_version")
            self.assertEqual(rows, [[[frame], [port], [sport], ["127.0.0.1"], subject, ["1"]]], name)

    def test_migration_kind_and_outcome(self):
        for name, stack in STACKS.items():
            with self.subTest(capture=name):
                self.assertEqual({(row[0][0], row[1][0]) for row in self.rows(
                    name, "spicemig.migration.kind", "spicemig.migration.kind", "spicemig.migration.outcome")},
                    {("seamless", "completed")})
                args = key_log_options(stack.key_log) if stack.key_log else ()
                rows = migrations_rows(tshark("-r", capture(name), "-2", "-q", *args, "-z", "spicemig,migrations"))
                bodies = str(len(stack.bodies))
                last_forwarded = str(max(int(body[3]) for body in stack.bodies))
                self.assertEqual([(r["Kind"], r["Outcome"], r["Source"], r["Destination"], r["Begin"], r["End"],
                                   r["Sent"], r["Forwarded"], r["Missing"], r["Modified"], r["Unmatched"])
                                  for r in rows],
                                 [("seamless", "completed", stack.source, stack.destination, stack.begin[0],
                                   last_forwarded, bodies, bodies, "0", "0", "0")])

    def test_nothing_undissected_nor_malformed(self):
        for name in STACKS:
            with self.subTest(capture=name):
                self.assertEqual(self.rows(name, "tcp.len > 0 && !tls && !spice && !spicemig && !tcp.reassembled_in "
                                           "&& !tcp.analysis.retransmission", "frame.number"), [])
                self.assertEqual(self.rows(name, "tls.record.content_type == 23 && !spice && !spicemig && "
                                           "!tls.reassembled_in", "frame.number"), [])
                self.assertEqual(self.rows(name, "data || _ws.malformed", "frame.number"), [])

    def test_no_warning(self):
        for name, stack in STACKS.items():
            found = experts(name, stack.key_log)
            names = {expert for expert, _ in found
                     if expert.startswith(("spice.", "spicemig.")) and not expert.startswith("spicemig.milestone.")}
            self.assertEqual(names, INFORMATIONAL | set(stack.notes), name)
            for note, messages in stack.notes.items():
                self.assertEqual(sorted(message for (expert, message), n in found.items() if expert == note
                                        for _ in range(n)), messages, name)

class RecorderCheckWithSpicemigLoaded(unittest.TestCase):
    """The recorder's own end-of-run check (--check-only) where spicemig is
    loaded, as in a chroot of tools/distro-test where it is installed
    globally: every tshark the check runs is the plugin's (a `tshark` first
    on PATH runs tests/tshark-with-plugin). spicemig's TLS heuristic used to
    take the decrypted data the check reads, which then found no bodies."""

    def test_tls_check_finds_every_body(self):
        bin_dir = tempfile.mkdtemp(prefix="spicemig-bin-")
        self.addCleanup(shutil.rmtree, bin_dir, True)
        with open(os.path.join(bin_dir, "tshark"), "w") as wrapper:
            # The real tshark for tshark-with-plugin: the PATH without this folder.
            wrapper.write('#!/bin/sh\nPATH="%s" exec "%s" "%s" "$@"\n' % (
                os.environ["PATH"], os.path.join(HERE, "tshark-with-plugin"), os.path.abspath(PLUGIN)))
        os.chmod(os.path.join(bin_dir, "tshark"), 0o755)
        # The check itself, without the recorder's overall deadline (meant
        # for a recording, too short for tshark with the plugin as nobody on
        # a busy machine).
        tools = os.path.join(HERE, "..", "tools")
        sys.path.insert(0, tools)  # the recorder's own modules
        self.addCleanup(sys.path.remove, tools)
        loader = importlib.machinery.SourceFileLoader("recorder", os.path.join(tools, "make-migration-capture"))
        recorder = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
        loader.exec_module(recorder)
        # tshark runs as nobody: the capture and its key log in a folder it can
        # read wherever the tree is.
        readable = tempfile.mkdtemp(prefix="spicemig-tls-")
        self.addCleanup(shutil.rmtree, readable, True)
        os.chmod(readable, 0o755)
        for name in ("spice-0.16.0-tls.pcapng", "spice-0.16.0-tls.keys"):
            shutil.copyfile(capture(name), os.path.join(readable, name))
            os.chmod(os.path.join(readable, name), 0o644)
        options = recorder.parse_args(["--check-only", "--out", os.path.join(readable, "spice-0.16.0-tls.pcapng"),
                                       "--tls", "all",
                                       "--src-port", "5950", "--dst-port", "5952", "--src-tls-port", "5951",
                                       "--dst-tls-port", "5953"])
        out = io.StringIO()
        with unittest.mock.patch.dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"]), \
                contextlib.redirect_stdout(out):
            recorder.verify_seamless(options)
        self.assertEqual([line.split(": ", 1)[1] for line in out.getvalue().splitlines()],
                         ["seamless migration captured, 385820 bytes, MNMD x2, DCMD x2, ICMD x2",
                          "of 570 encrypted TLS records 507 are application data, 507 of them decrypted"])

if __name__ == "__main__":
    unittest.main()
