"""The migration timeline (Chat-level milestones), the consistency checks and
the destination verdict: on the real capture, and on copies of it changed at
test time by tools/alter-forwarded-body and editcap (one byte altered, one
frame removed), so that each check has a case where it must fire."""

import atexit
import os
import shutil
import subprocess
import tempfile
import unittest

from spicemig_tshark import ANY_EXPERT, HERE, capture, column, count, fields

REAL = "seamless-default.pcapng"
ALTER = os.path.join(HERE, "..", "tools", "alter-forwarded-body")
# Every spicemig expert info but the Chat-level milestones.
WARNINGS = ANY_EXPERT

_scratch = tempfile.mkdtemp(prefix="spicemig-checks-")
atexit.register(shutil.rmtree, _scratch, True)


def altered(name, *args):
    """seamless-default.pcapng changed by alter-forwarded-body ARGS."""
    path = os.path.join(_scratch, name)
    if not os.path.exists(path):
        subprocess.run([ALTER, capture(REAL), path, *args], check=True, stdout=subprocess.DEVNULL)
    return path


def without_frame(frame):
    path = os.path.join(_scratch, "without-%d.pcapng" % frame)
    if not os.path.exists(path):
        subprocess.run(["editcap", capture(REAL), path, str(frame)], check=True, stdout=subprocess.DEVNULL)
    return path


class Timeline(unittest.TestCase):
    def test_milestones_in_order(self):
        rows = fields(REAL, "spicemig.milestone", "frame.number", "_ws.expert.message")
        milestones = [(int(frame[0]), message) for frame, messages in rows
                      for message in messages if message.startswith("Migration 1")]
        self.assertEqual(milestones, [
            (174, "Migration 1: seamless migration begins: 127.0.0.1:5910 to 127.0.0.1:5912"),
            (214, "Migration 1: the destination accepts the seamless migration"),
            (245, "Migration 1: the client is connected to the destination"),
            (260, "Migration 1: MIGRATE on the Main channel"),
            (262, "Migration 1: MIGRATE on the Inputs channel"),
            (264, "Migration 1: MIGRATE on the Display channel"),
            (266, "Migration 1: MIGRATE on the Cursor channel"),
            (277, "Migration 1: Inputs body forwarded to the destination (source frame 276)"),
            (281, "Migration 1: Display body forwarded to the destination (source frame 280)"),
            (296, "Migration 1: Main body forwarded to the destination (source frame 284)"),
            (316, "Migration 1: the destination resumed drawing, 1.354679096 s after the source's last drawing"),
        ])

    def test_one_expert_info_per_kind_of_step(self):
        # The Expert dialog groups by expert info: one group per step, in the migration's order.
        steps = {"begin": ["174"], "dst_answer": ["214"], "connected": ["245"],
                 "switch_over": ["260", "262", "264", "266"], "forwarded": ["277", "281", "296"],
                 "resumed": ["316"], "end": []}
        for step, frames in steps.items():
            self.assertEqual(column(REAL, "spicemig.milestone." + step, "frame.number"), frames, step)
        self.assertEqual(column("semi-seamless.pcapng", "spicemig.milestone.end", "_ws.expert.message"),
                         ["Migration 1: the source ends the migration"])

    def test_clean_real_capture(self):
        self.assertEqual(count(REAL, WARNINGS), 0)
        self.assertEqual(column(REAL, "spicemig.dst_verdict", "spicemig.dst_verdict"), ["accepted"] * 3)
        self.assertEqual(count(REAL, "spicemig.dst_verdict.reason"), 0)


class DestinationVerdict(unittest.TestCase):
    def test_surface_id_out_of_range_is_unsafe(self):
        cap = altered("surface-1024.pcapng", "--frame", "281", "--magic", "DCMD", "--offset", "85", "--xor", "4")
        self.assertEqual(fields(cap, "spicemig.dst_verdict != \"accepted\"", "frame.number", "spicemig.dst_verdict",
                                "spicemig.dst_verdict.reason", "spicemig.display.surface.id"),
                         [[["281"], ["accepted but unsafe"], ["surface id 1024 out of range"],
                           ["1024"]]])
        self.assertIn("Forwarded body differs from the source's (frame 280) from offset 85 on: "
                      "Surface id: 0 at the source, 1024 forwarded",
                      column(cap, "spicemig.forward_modified", "_ws.expert.message"))

    def test_newer_version_is_rejected(self):
        cap = altered("version-2.pcapng", "--frame", "281", "--magic", "DCMD", "--offset", "4", "--xor", "3")
        self.assertEqual(fields(cap, "spicemig.dst_verdict != \"accepted\"", "frame.number", "spicemig.dst_verdict",
                                "spicemig.dst_verdict.reason"),
                         [[["281"], ["rejected"], ["DCMD version 2 unsupported"]]])


class ModifiedFieldNames(unittest.TestCase):
    def test_main_and_char_device_fields(self):
        # The field's label, and its value in each copy.
        for offset, field in ((34, "Chunk header bytes read: 0 at the source, 1 forwarded"),
                              (13, "Char device client tokens: 0 at the source, 1 forwarded")):
            with self.subTest(offset=offset):
                cap = altered("mnmd-%d.pcapng" % offset, "--frame", "296", "--magic", "MNMD",
                              "--offset", str(offset))
                self.assertEqual(column(cap, "spicemig.forward_modified", "_ws.expert.message")[0],
                                 "Forwarded body differs from the source's (frame 284) from offset %d on: %s"
                                 % (offset, field))


class Consistency(unittest.TestCase):
    def test_display_body_against_display_init(self):
        cap = altered("cache-id-3.pcapng", "--frame", "280", "--magic", "DCMD", "--offset", "17", "--xor", "2")
        self.assertEqual(fields(cap, "spicemig.display_init_mismatch", "frame.number", "_ws.expert.message"),
                         [[["280"], ["DCMD pixmap cache id 3 differs from the client's DISPLAY_INIT (1, frame 68)"]]])

    def test_seamless_versions(self):
        cap = altered("dst-version-3.pcapng", "--frame", "192", "--offset", "6", "--xor", "2")
        self.assertEqual(fields(cap, "spicemig.version_mismatch", "frame.number", "_ws.expert.message"),
                         [[["192"], ["The client asks the destination for source version 3, the source said 1 in "
                                     "MIGRATE_BEGIN_SEAMLESS (frame 174)"]]])

    def test_body_forwarded_without_ack(self):
        cap = without_frame(214)  # MIGRATE_DST_SEAMLESS_ACK
        self.assertEqual(column(cap, "spicemig.body_without_ack", "frame.number"), ["276", "280", "295"])

    def test_body_never_sent(self):
        cap = without_frame(280)  # the source's DCMD
        # Where it becomes known, on one pass too: the client closes the
        # source's display channel (frame 290), no body came after MIGRATE (264).
        for two_pass in (True, False):
            self.assertEqual(fields(cap, "spicemig.body_never_sent", "frame.number", two_pass=two_pass), [[["290"]]])
        self.assertEqual(column(cap, "spicemig.body_never_sent", "_ws.expert.message")[-1],
                         "MIGRATE (frame 264) asks for NEED_DATA_TRANSFER, but the client closes the connection to "
                         "the source first on the Display channel, before its MIGRATE_DATA")
        # The client did forward a display body (the source's copy is gone):
        # the migration is not failed for it.
        self.assertEqual(column(cap, "spicemig.migration.failed", "frame.number"), [])
        # Its forwarded copy has no source now: a note, not a warning.
        self.assertEqual(column(cap, "spicemig.forward_unmatched", "frame.number"), ["280"])


if __name__ == "__main__":
    unittest.main()
