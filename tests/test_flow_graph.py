"""The Flow Graph of SPICE migrations (`-z flow,spicemig,network`, Statistics >
Flow Graph in Wireshark) on real captures: the exact nodes, and the exact
arrows as (frame, from, to, label, comment). Labels are as tshark prints
them, cut to the width between two nodes."""

import unittest

from spicemig_tshark import flow_arrows

SOURCE = "source server 127.0.0.1:5910"
CLIENT = "client 127.0.0.1"
DESTINATION = "destination server 127.0.0.1:5912"
BEGIN = "Migration 1: seamless migration begins: 127.0.0.1:5910 to 127.0.0.1:5912"
ACCEPTS = "Migration 1: the destination accepts the seamless migration"
CONNECTED = "Migration 1: the client is connected to the destination"
CANCELS = "Migration 1: the source cancels the migration"


def arrows_of(capture_name):
    return flow_arrows(capture_name)[1]


class SeamlessOneAddress(unittest.TestCase):
    """Both QEMUs and the client on 127.0.0.1: one node per role all the same."""

    def test_nodes(self):
        self.assertEqual(flow_arrows("seamless-default.pcapng")[0], [SOURCE, CLIENT, DESTINATION])

    def test_arrows(self):
        self.assertEqual(arrows_of("seamless-default.pcapng"), [
            (174, SOURCE, CLIENT, "Main MIGRATE_BEGIN_S", BEGIN),
            (178, CLIENT, DESTINATION, "Main LINK_MESS", "Migration 1"),
            (192, CLIENT, DESTINATION, "Main MIGRATE_DST_DO_", "Migration 1"),
            (202, CLIENT, DESTINATION, "Inputs LINK_MESS", "Migration 1"),
            (204, CLIENT, DESTINATION, "Cursor LINK_MESS", "Migration 1"),
            (206, CLIENT, DESTINATION, "Display LINK_MESS", "Migration 1"),
            (214, DESTINATION, CLIENT, "Main MIGRATE_DST_SEA", ACCEPTS),
            (245, CLIENT, SOURCE, "Main MIGRATE_CONNECT", CONNECTED),
            (260, SOURCE, CLIENT, "Main MIGRATE", "Migration 1: MIGRATE on the Main channel"),
            (262, SOURCE, CLIENT, "Inputs MIGRATE", "Migration 1: MIGRATE on the Inputs channel"),
            (264, SOURCE, CLIENT, "Display MIGRATE", "Migration 1: MIGRATE on the Display channel"),
            (266, SOURCE, CLIENT, "Cursor MIGRATE", "Migration 1: MIGRATE on the Cursor channel"),
            (273, CLIENT, SOURCE, "Inputs MIGRATE_FLUSH", "Migration 1"),
            (276, SOURCE, CLIENT, "Inputs MIGRATE_DATA", "Migration 1"),
            (277, CLIENT, DESTINATION, "Inputs MIGRATE_DATA",
             "Migration 1: Inputs body forwarded to the destination (source frame 276)"),
            (278, CLIENT, SOURCE, "Display MIGRATE_FLUS", "Migration 1"),
            (280, SOURCE, CLIENT, "Display MIGRATE_DATA", "Migration 1"),
            (281, CLIENT, DESTINATION, "Display MIGRATE_DATA",
             "Migration 1: Display body forwarded to the destination (source frame 280)"),
            (282, CLIENT, SOURCE, "Main MIGRATE_FLUSH_M", "Migration 1"),
            (284, SOURCE, CLIENT, "Main MIGRATE_DATA", "Migration 1"),
            (296, CLIENT, DESTINATION, "Main MIGRATE_DATA",
             "Migration 1: Main body forwarded to the destination (source frame 284)"),
            (316, DESTINATION, CLIENT, "Display drawing",
             "Migration 1: the destination resumed drawing, 1.354679096 s after the source's last drawing"),
        ])


class SeamlessThreeHosts(unittest.TestCase):
    def test_nodes_and_first_arrows(self):
        nodes, arrows = flow_arrows("seamless-three-hosts.pcapng")
        self.assertEqual(nodes, ["source server 192.0.2.1:5900", "client 192.0.2.10",
                                 "destination server 192.0.2.2:5900"])
        self.assertEqual(arrows[:2], [
            (174, "source server 192.0.2.1:5900", "client 192.0.2.10", "Main MIGRATE_BEGIN_S",
             "Migration 1: seamless migration begins: 192.0.2.1:5900 to 192.0.2.2:5900"),
            (178, "client 192.0.2.10", "destination server 192.0.2.2:5900", "Main LINK_MESS", "Migration 1")])
        self.assertEqual(len(arrows), 22)


class Failures(unittest.TestCase):
    def test_destination_killed(self):
        """The destination's closing connections fail the migration; the source cancels later."""
        self.assertEqual(arrows_of("dst-killed.pcapng")[-2:], [
            (223, DESTINATION, CLIENT, "failed",
             "Migration 1 failed: destination 127.0.0.1:5912 closed its connections before switch-over: the "
             "destination QEMU exited or was killed; the source cancelled when the VM migration failed (frame 231)"),
            (231, SOURCE, CLIENT, "Main MIGRATE_CANCEL", CANCELS)])

    def test_cancelled(self):
        """The cancel message, then the problem it is, on the same frame."""
        self.assertEqual(arrows_of("cancelled.pcapng")[-2:], [
            (223, SOURCE, CLIENT, "Main MIGRATE_CANCEL", CANCELS),
            (223, SOURCE, CLIENT, "cancelled",
             "Migration 1 cancelled: cancelled by the source after the VM migration was cancelled or failed (the "
             "capture cannot tell which); the VM stays on the source")])

    def test_forward_missing(self):
        self.assertIn((52, "client 127.0.0.1", "destination server 127.0.0.1:5932", "Display body not for",
                       "The client never forwarded the Display body (source frame 44) to the destination "
                       "127.0.0.1:5932: its first message there is ACK_SYNC"),
                      arrows_of("synthetic/forward-missing.pcap"))

    def test_body_never_sent_close(self):
        self.assertIn((47, "source server 127.0.0.1:5930", "client 127.0.0.1", "Display body never s",
                       "MIGRATE (frame 42) asks for NEED_DATA_TRANSFER, but the source closes the connection next "
                       "on the Display channel, not its MIGRATE_DATA: the client forwards nothing"),
                      arrows_of("synthetic/body-never-sent-close.pcap"))


    def test_source_closed_before_main_body(self):
        """The body never sent and the failure, both on the source's FIN."""
        self.assertEqual(arrows_of("synthetic/source-closed-before-main-body.pcap")[-2:], [
            (45, "source server 127.0.0.1:5930", "client 127.0.0.1", "Main body never sent",
             "MIGRATE (frame 43) asks for NEED_DATA_TRANSFER, but the source closes the connection next on the "
             "Main channel, not its MIGRATE_DATA: the client forwards nothing"),
            (45, "source server 127.0.0.1:5930", "client 127.0.0.1", "failed",
             "Migration 1 failed: after MIGRATE the source closed its connections without sending the Main "
             "channel's migrate data: the source QEMU ended (aborted or killed) or spice-server dropped the client "
             "(the capture cannot tell which)")])


if __name__ == "__main__":
    unittest.main()
