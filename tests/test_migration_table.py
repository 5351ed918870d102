"""The migrations stat table (`-z spicemig,migration_table`, Statistics >
SPICE Migrations in Wireshark) on real captures: its columns, the exact rows
of every migration path and failure, and the same values as the
`-z spicemig,migrations` text table for the same capture."""

import functools
import glob
import os
import unittest

from spicemig_tshark import (CAPTURES, capture, key_log_options, migrations_rows, stat_table_columns,
                             stat_table_rows, tshark)
from test_analysis import one_server_copy

TABLE = "spicemig,migration_table"
TITLE = "SPICE Migrations"
COLUMNS = ["Migration", "Kind", "Outcome", "Source", "Destination", "Begin frame", "End frame",
           "Begin\u2192MIGRATE (s)", "MIGRATE\u2192forwarded (s)", "Display gap (s)", "Begin\u2192end (s)",
           "Bodies sent", "Bodies forwarded", "Bodies missing", "Bodies modified", "Bodies unmatched", "Reason"]
# The text table's column -> the stat table's.
SAME_VALUE = {"#": "Migration", "Kind": "Kind", "Outcome": "Outcome", "Source": "Source",
              "Destination": "Destination", "Begin": "Begin frame", "End": "End frame",
              "Begin>MIGRATE": "Begin\u2192MIGRATE (s)", "MIGRATE>fwd": "MIGRATE\u2192forwarded (s)",
              "Display gap": "Display gap (s)", "Sent": "Bodies sent", "Forwarded": "Bodies forwarded",
              "Missing": "Bodies missing", "Modified": "Bodies modified", "Unmatched": "Bodies unmatched"}
LOCAL = ("127.0.0.1:5910", "127.0.0.1:5912")
SRC_CLOSED_WITHOUT = ("after MIGRATE the source closed its connections without sending the %s channel's migrate data:"
                      " the source QEMU ended (aborted or killed) or spice-server dropped the client (the capture cannot"
                      " tell which)")

# Kind, outcome, source and destination, begin and end frames, bodies sent,
# forwarded, missing, modified and unmatched, reason ("-": none) of each
# migration. src-killed, dst-link-refused and switch-host decide their
# outcome after the migration's last message (a connection closing, a refused
# relink, the new session's MAIN_INIT): the row is right on the second pass.
SCENARIOS = {
    "seamless-default.pcapng": [
        ("seamless", "completed", LOCAL, "174", "296", "3", "3", "0", "0", "0", "-")],
    "semi-seamless.pcapng": [
        ("semi-seamless", "completed", LOCAL, "141", "216", "0", "0", "0", "0", "0", "-")],
    "dst-nack.pcapng": [
        ("seamless, fell back to semi-seamless", "completed", LOCAL, "139", "221", "0", "0", "0", "0", "0", "-")],
    "switch-host.pcapng": [
        ("seamless, fell back to switch-host", "completed", LOCAL, "140", "248", "0", "0", "0", "0", "0",
         "the VM migration completed before the client had connected to the destination: the client followed"
         " by switch-host")],
    "switch-host-late-client.pcapng": [
        ("switch-host", "completed", LOCAL, "116", "144", "0", "0", "0", "0", "0", "-")],
    "cancelled.pcapng": [
        ("seamless", "cancelled", LOCAL, "138", "223", "0", "0", "0", "0", "0",
         "cancelled by the source after the VM migration was cancelled or failed (the capture cannot tell"
         " which); the VM stays on the source")],
    "connect-error.pcapng": [
        ("seamless, fell back to switch-host", "failed", ("127.0.0.1:5910", "127.0.0.1:5924"), "138", "143",
         "0", "0", "0", "0", "0",
         "destination unreachable: the client could not connect to it (frame 141), and did not reach it after"
         " MIGRATE_SWITCH_HOST")],
    "dst-killed.pcapng": [
        ("seamless", "failed", LOCAL, "137", "231", "0", "0", "0", "0", "0",
         "destination 127.0.0.1:5912 closed its connections before switch-over: the destination QEMU exited or"
         " was killed; the source cancelled when the VM migration failed (frame 231)")],
    "src-killed.pcapng": [
        ("seamless", "failed", LOCAL, "142", "225", "0", "0", "0", "0", "0",
         "the source's connections closed before switch-over: the source QEMU stopped, or the client left it"
         " (the capture cannot tell which)")],
    "dst-link-refused.pcapng": [
        ("seamless, fell back to switch-host", "failed", LOCAL, "138", "186", "0", "0", "0", "0", "0",
         "destination 127.0.0.1:5912 refused the client's link (Permission denied, frame 153), and again after"
         " MIGRATE_SWITCH_HOST: the client has no connection left")],
    "ping-pong.pcapng": [
        ("seamless", "completed", LOCAL, "138", "256", "3", "3", "0", "0", "0", "-"),
        ("seamless", "completed", LOCAL[::-1], "309", "440", "3", "3", "0", "0", "0", "-")],
    "synthetic/forward-modified.pcapng": [
        ("seamless", "completed", LOCAL, "174", "296", "3", "3", "0", "1", "0", "-")],
    "synthetic/source-closed-before-main-body.pcap": [
        ("seamless", "failed", ("127.0.0.1:5930", "127.0.0.1:5932"), "19", "45", "1", "1", "0", "0", "0",
         SRC_CLOSED_WITHOUT % "Main")],
    "guest-paused-source-abort.pcapng": [
        ("seamless", "failed", ("127.0.0.1:5930", "127.0.0.1:5932"), "163", "544", "2", "2", "0", "0", "0",
         SRC_CLOSED_WITHOUT % "Main")],
    "synthetic/forward-missing.pcap": [
        ("seamless", "completed", ("127.0.0.1:5930", "127.0.0.1:5932"), "19", "51", "2", "1", "1", "0", "0", "-")],
}
SUMMARY_COLUMNS = ["Kind", "Outcome", "Source", "Destination", "Begin frame", "End frame", "Bodies sent",
                   "Bodies forwarded", "Bodies missing", "Bodies modified", "Bodies unmatched", "Reason"]


@functools.lru_cache(maxsize=None)
def reports(path, *options):
    """Both tables of one capture, from one tshark run (second pass)."""
    return tshark("-r", path, "-2", "-q", *options, "-z", TABLE, "-z", "spicemig,migrations")


def report(name):
    key_log = os.path.splitext(name)[0] + ".keys"
    keys = key_log_options(key_log) if os.path.exists(os.path.join(CAPTURES, key_log)) else ()
    return reports(capture(name), *keys)


def summary(row):
    """A stat table row in the order of SCENARIOS."""
    cells = [row[column] for column in SUMMARY_COLUMNS]
    return tuple(cells[:2]) + (tuple(cells[2:4]),) + tuple(cells[4:])


class MigrationTable(unittest.TestCase):
    def test_columns(self):
        self.assertEqual(stat_table_columns(report("seamless-default.pcapng"), TITLE), COLUMNS)

    def test_seamless_default(self):
        self.assertEqual(stat_table_rows(report("seamless-default.pcapng"), TITLE), [dict(zip(COLUMNS, [
            "1", "seamless", "completed", "127.0.0.1:5910", "127.0.0.1:5912", "174", "296", "1.137165587",
            "0.002482656", "1.354679096", "1.139648243", "3", "3", "0", "0", "0", "-"]))])

    def test_every_path_and_failure(self):
        for name, expected in SCENARIOS.items():
            with self.subTest(capture=name):
                rows = stat_table_rows(report(name), TITLE)
                self.assertEqual([row["Migration"] for row in rows], [str(i + 1) for i in range(len(expected))])
                self.assertEqual([summary(row) for row in rows], expected)

    def test_times_left_out_where_the_capture_does_not_tell(self):
        # No MIGRATE (cancelled before switch-over) and no drawing on the destination.
        row = stat_table_rows(report("cancelled.pcapng"), TITLE)[0]
        self.assertEqual([row[column] for column in COLUMNS[7:11]], ["-", "-", "-", "1.117655161"])
        # The outcome decided at the end of the capture has no end time.
        row = stat_table_rows(report("connect-error.pcapng"), TITLE)[0]
        self.assertEqual([row[column] for column in COLUMNS[7:11]], ["1.624370659", "-", "-", "-"])

    def test_destination_only(self):
        # The source's copies are not in the capture: each body the client
        # forwards is unmatched, none counts as forwarded from the source.
        rows = stat_table_rows(reports(one_server_copy(5912)), TITLE)
        self.assertEqual([(row["Source"], row["Destination"], row["Bodies sent"], row["Bodies forwarded"],
                           row["Bodies unmatched"]) for row in rows], [("-", "127.0.0.1:5912", "0", "0", "3")])

    def test_display_filter(self):
        text = reports(capture("ping-pong.pcapng"))
        filtered = tshark("-r", capture("ping-pong.pcapng"), "-2", "-q", "-z", TABLE + ",spicemig.migration.id == 2")
        self.assertEqual(stat_table_rows(filtered, TITLE), stat_table_rows(text, TITLE)[1:])

    def test_same_values_as_the_text_table(self):
        # Both tables from one tshark run: the two -z names live side by side.
        names = sorted(os.path.relpath(path, CAPTURES) for path in glob.glob(os.path.join(CAPTURES, "*.pcapng")))
        names += [name for name in SCENARIOS if name.startswith("synthetic/")]
        for name in names:
            with self.subTest(capture=name):
                text = report(name)
                table = stat_table_rows(text, TITLE)
                migrations = migrations_rows(text)
                self.assertEqual(len(table), len(migrations))
                for row, line in zip(table, migrations):
                    self.assertEqual({column: row[column] for column in SAME_VALUE.values()},
                                     {SAME_VALUE[key]: value for key, value in line.items() if key in SAME_VALUE})
                    self.assertEqual(row["Reason"], line["Reason"] or "-")


if __name__ == "__main__":
    unittest.main()
