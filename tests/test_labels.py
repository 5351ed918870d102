"""What the tree says, line by line, where a number alone would mislead
(issue #16): offsets say where they count from, the surfaces list has one
line per surface, spicemig's reasoning is generated text and not a field."""

import unittest

from spicemig_tshark import capture, column, count, fields, tshark

SYN = "synthetic/"


def tree(capture_name, display_filter, *options):
    """tshark -V of the matching frames, spicemig's items only."""
    return tshark("-r", capture(capture_name), "-2", *options, "-Y", display_filter, "-V", "-O", "spicemig")


def block(text, first, end):
    """The lines of `text` from the one that is `first` (stripped) up to the
    next one that starts with `end` (stripped), both as written."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == first)
    stop = next(i for i in range(start + 1, len(lines)) if lines[i].strip().startswith(end))
    return lines[start:stop]


class Offsets(unittest.TestCase):
    def test_every_offset_counts_from_the_body_start(self):
        text = tree("seamless-default.pcapng", "spicemig.msg.type == 116 || spicemig.magic")
        self.assertEqual(text.count("\n        Surfaces list offset: 80 bytes from the body start\n"), 2)
        self.assertEqual(text.count("\n            Write data offset: 0 bytes from the body start\n"), 2)
        self.assertEqual(text.count("\n            Partial header offset: 0 bytes from the body start\n"), 2)
        self.assertEqual(text.count("\n        Destination host offset: 24 bytes from the body start\n"), 1)
        self.assertEqual(text.count("\n        Destination certificate subject offset: 0 bytes from the body start\n"),
                         1)

    def test_descriptions_name_the_magic(self):
        fields = {cells[2]: cells[7] for cells in (line.split("\t") for line in tshark("-G", "fields").splitlines())
                  if cells[0] == "F" and cells[4] == "spicemig"}
        for name in ("spicemig.display.surfaces_ptr", "spicemig.chardev.write_data_ptr",
                     "spicemig.smartcard.read_data_ptr", "spicemig.main.agent2client.msg_header_ptr"):
            self.assertIn("counted from the body start: its magic", fields[name], name)


class SurfacesList(unittest.TestCase):
    LAYOUT_LINES = [
        "                [The destination server's JPEG setting decides: lossy when it may send JPEG "
        "(jpeg-wan-compression)]",
        "                [The spicemig.surfaces_layout preference forces one layout]",
    ]

    def test_lossless_one_line_per_surface(self):
        text = tree(SYN + "surfaces-lossless.pcap", "spicemig.msg.type == 2")
        self.assertEqual(block(text, "Surfaces at client", "[Migration:"), [
            "        Surfaces at client",
            "            Number of surfaces: 3",
            "            [Lossy surfaces list: No (inferred: 3 surfaces x 4 bytes runs exactly to the end of the body)]",
            "                [Lossless layout {id}: 3 x 4 bytes, ends exactly at the end of the body]",
            "                [Lossy layout {id, lossy_rect}: 3 x 20 bytes, runs past the end of the body]",
        ] + self.LAYOUT_LINES + [
            "            Surface id: 0",
            "            Surface id: 1",
            "            Surface id: 5",
        ])

    def test_real_lossless_surface(self):
        text = tree("seamless-default.pcapng", 'spicemig.magic == "DCMD"')
        self.assertEqual(text.count("\n            Surface id: 0\n"), 2)
        self.assertNotIn("Surface 0", text)

    def test_lossy_one_subtree_per_surface(self):
        text = tree(SYN + "surfaces-lossy.pcap", "spicemig.msg.type == 2")
        self.assertEqual(block(text, "Surfaces at client", "[Migration:"), [
            "        Surfaces at client",
            "            Number of surfaces: 2",
            "            [Lossy surfaces list: Yes (inferred: 2 surfaces x 20 bytes runs exactly to the end of the body)]",
            "                [Lossless layout {id}: 2 x 4 bytes, ends before the end of the body]",
            "                [Lossy layout {id, lossy_rect}: 2 x 20 bytes, ends exactly at the end of the body]",
        ] + self.LAYOUT_LINES + [
            "            Surface 0, lossy rect (0, 0)-(1024, 768)",
            "                Surface id: 0",
            "                Lossy rect left: 0",
            "                Lossy rect top: 0",
            "                Lossy rect right: 1024",
            "                Lossy rect bottom: 768",
            "            Surface 7, lossy rect (10, 20)-(30, 40)",
            "                Surface id: 7",
            "                Lossy rect left: 10",
            "                Lossy rect top: 20",
            "                Lossy rect right: 30",
            "                Lossy rect bottom: 40",
        ])


class PortInit(unittest.TestCase):
    """WebDAV inherits the port channel's PORT_INIT (201): the guest port's
    name and whether it is open, on source and destination."""
    CAP = "seamless-extra-channels.pcapng"

    def test_named_and_decoded_on_port_and_webdav(self):
        rows = fields(self.CAP, "spicemig.port_init.name", "spicemig.channel.type", "spicemig.msg.type",
                      "spicemig.port_init.name_size", "spicemig.port_init.name_ptr", "spicemig.port_init.name",
                      "spicemig.port_init.opened", "_ws.col.Info")
        port = [["10"], ["201"], ["17"], ["9"], ["org.spice.test.0"], ["0"],
                ["Port PORT_INIT org.spice.test.0 (closed)"]]
        webdav = [["11"], ["201"], ["25"], ["9"], ["org.spice-space.webdav.0"], ["0"],
                  ["WebDAV PORT_INIT org.spice-space.webdav.0 (closed)"]]
        # Source, then destination.
        self.assertEqual(rows, [webdav, port, port, webdav])

    def test_tree(self):
        text = tree(self.CAP, "spicemig.channel.type == 11 && spicemig.msg.type == 201")
        self.assertEqual(text.count("\n    WebDAV PORT_INIT\n"), 2)
        self.assertEqual(text.count("\n            Message type: PORT_INIT (201)\n"), 2)
        self.assertEqual(text.count("\n        Port name size: 25 bytes\n"
                                    "        Port name offset: 9 bytes from the body start\n"
                                    "        Port opened: No\n"
                                    "        Port name: org.spice-space.webdav.0\n"), 2)
        self.assertNotIn("Unknown message", text)

    def test_no_unknown_message_left(self):
        info = column(self.CAP, "spicemig.channel.type >= 10", "_ws.col.Info")
        self.assertEqual(len(info), 48)
        self.assertEqual([line for line in info if "Unknown" in line], [])


class MessageName(unittest.TestCase):
    """spicemig.msg.name: one name for a message whichever direction (and so
    type number) it has, on every message spicemig frames, the ones the
    built-in decodes too."""
    CAP = "seamless-default.pcapng"

    def test_migrate_data_both_directions(self):
        for two_pass in (False, True):
            rows = fields(self.CAP, 'spicemig.msg.name == "MIGRATE_DATA"', "spicemig.msg.type", "spicemig.magic",
                          two_pass=two_pass)
            # Each body as the source sends it (2), then as the client forwards it (5).
            self.assertEqual(rows, [[["2"], ["ICMD"]], [["5"], ["ICMD"]], [["2"], ["DCMD"]], [["5"], ["DCMD"]],
                                    [["2"], ["MNMD"]], [["5"], ["MNMD"]]], two_pass)

    def test_shown_on_messages_spicemig_decodes(self):
        text = tree(self.CAP, 'spicemig.msg.name == "MIGRATE_DATA"')
        self.assertEqual(text.count("\n        [Message name: MIGRATE_DATA]\n"), 6)

    def test_messages_the_builtin_decodes(self):
        # Frame 316: 36 DRAW_COPY, decoded by the built-in; their name once
        # (once per name and frame), as in the Info column.
        self.assertEqual(fields(self.CAP, "frame.number == 316 && spicemig.msg.name", "spicemig.msg.name",
                                "spice.message_type", "_ws.col.Info"),
                         [[["DRAW_COPY"], ["304"] * 36, ["Display DRAW_COPY \u00d736"]]])
        # Frame 34: the end of a reassembled PING, then PING and CHANNELS_LIST.
        self.assertEqual(fields(self.CAP, "frame.number == 34 && spicemig.msg.name", "spicemig.msg.name",
                                "_ws.col.Info"),
                         [[["PING", "CHANNELS_LIST"], ["Main PING, Main CHANNELS_LIST"]]])
        self.assertEqual(count(self.CAP, 'spicemig.msg.name == "PING" || spicemig.msg.name == "PONG"'), 34)
        self.assertEqual(count(self.CAP, "spice.ping_id"), 34)
        # A filter alias there (hidden): the built-in's tree shows each message.
        self.assertNotIn("Message name", tree(self.CAP, "frame.number == 316"))

    def test_link_messages(self):
        # Four channels on each server.
        self.assertEqual(count(self.CAP, 'spicemig.msg.name == "LINK_REPLY"'), 8)
        self.assertEqual(count(self.CAP, 'spicemig.msg.name == "LINK_REPLY" && spicemig.link.kind == 3'), 8)

    def test_every_spicemig_frame_names_its_messages(self):
        for name in (self.CAP, "seamless-extra-channels.pcapng"):
            self.assertEqual(count(name, "spicemig && !spicemig.msg.name"), 0, name)


class AsciiHop(unittest.TestCase):
    def test_hop_without_an_arrow(self):
        for two_pass in (False, True):
            for hop, types in (("source->client", [["2"]] * 3), ("client->destination", [["5"]] * 3)):
                rows = fields("seamless-default.pcapng", 'spicemig.hop.ascii == "%s"' % hop, "spicemig.msg.type",
                              "spicemig.hop", two_pass=two_pass)
                self.assertEqual([row[0] for row in rows], types, (hop, two_pass))
                self.assertEqual({row[1][0] for row in rows}, {hop.replace("->", "\u2192")}, (hop, two_pass))


if __name__ == "__main__":
    unittest.main()
