"""The SPICE connections of a capture as byte streams, and their messages.

Shared by the fuzzing tools: fuzz/make-corpus (seed inputs for the libFuzzer
harnesses) and tools/mutate-captures (edge values in the real captures).
Segments come from the real tshark (TCP payloads, reassembly off); the
messages are framed here the way a SPICE peer reads them, with the byte
position of every length, count and pointer field, so that a tool can
rewrite exactly those bytes in the capture.
"""

import collections
import struct
import subprocess

SPICE_MAGIC = b"REDQ"
LINK_HEADER_LEN = 16
LINK_MESS_LEN = 18          # sizeof(SpiceLinkMess)
LINK_REPLY_LEN = 178        # sizeof(SpiceLinkReply)
PUBKEY_LEN = 162            # SPICE_TICKET_PUBKEY_BYTES
TICKET_LEN = 128
MINI_HEADER_LEN = 6
FULL_HEADER_LEN = 18
CAP_AUTH_SELECTION, CAP_AUTH_SPICE, CAP_AUTH_SASL, CAP_MINI_HEADER = 0, 1, 2, 3

# One TCP segment's payload: frame number, sender, bytes, and where in the
# frame's bytes the payload starts.
Segment = collections.namedtuple("Segment", "frame from_server payload frame_offset")
# A field of a message: name, offset in the direction's stream, width.
Field = collections.namedtuple("Field", "name stream_offset width")
# One SPICE message: kind ("link", "auth", "ticket", "result", "data"),
# direction, its stream offset and length, type (data messages), channel
# type, the offset of its body, and its length/count/pointer fields.
Message = collections.namedtuple("Message", "kind from_server offset length type channel_type body_offset fields")


class Connection:
    """One TCP connection of a capture, both directions."""

    def __init__(self, stream, server_port):
        self.stream = stream
        self.server_port = server_port
        self.segments = []

    def data(self, from_server):
        return b"".join(s.payload for s in self.segments if s.from_server == from_server)

    def locate(self, from_server, stream_offset):
        """(frame, offset in the frame's bytes) of a byte of one direction."""
        position = 0
        for segment in self.segments:
            if segment.from_server != from_server:
                continue
            if stream_offset < position + len(segment.payload):
                return segment.frame, segment.frame_offset + stream_offset - position
            position += len(segment.payload)
        raise IndexError(stream_offset)


def connections(path):
    """The TCP connections with payload of a capture, in stream order. The
    server is the side that did not send the first payload, or for a capture
    that starts mid-connection the lower port."""
    out = subprocess.run(
        ["tshark", "-r", path, "-o", "tcp.desegment_tcp_streams:FALSE", "-Y", "tcp.len > 0",
         "-T", "fields", "-e", "frame.number", "-e", "tcp.stream", "-e", "tcp.srcport",
         "-e", "tcp.dstport", "-e", "tcp.payload", "-e", "frame.len", "-e", "tcp.len",
         # Only the payload bytes matter. Not spicemig: from 4.4 on, disabling a
         # protocol that is not loaded (no global install) is an error.
         "--disable-protocol", "spice", "--disable-protocol", "vnc"],
        check=True, capture_output=True, text=True,
        env={"HOME": "/nonexistent", "PATH": "/usr/bin:/bin"}).stdout
    by_stream = collections.OrderedDict()
    for line in out.splitlines():
        frame, stream, sport, dport, payload, frame_len, tcp_len = line.split("\t")
        data = bytes.fromhex(payload.replace(":", ""))
        conn = by_stream.get(stream)
        if conn is None:
            sport, dport = int(sport), int(dport)
            if data.startswith(SPICE_MAGIC):
                server = dport
            else:
                server = min(sport, dport)
            conn = by_stream[stream] = Connection(int(stream), server)
        from_server = int(sport) == conn.server_port
        # The payload ends the frame (no Ethernet trailer on these captures).
        conn.segments.append(Segment(int(frame), from_server, data, int(frame_len) - int(tcp_len)))
    return list(by_stream.values())


def _u32(data, offset):
    return struct.unpack_from("<I", data, offset)[0]


def _link(data, offset, from_server):
    """A link message at offset, or None; also its common caps word."""
    if len(data) < offset + LINK_HEADER_LEN or data[offset:offset + 4] != SPICE_MAGIC:
        return None, 0
    size = _u32(data, offset + 12)
    fields = [Field("link.size", offset + 12, 4)]
    counts = offset + LINK_HEADER_LEN + (4 + PUBKEY_LEN if from_server else 6)
    common = 0
    if len(data) >= counts + 12 and size >= (LINK_REPLY_LEN if from_server else LINK_MESS_LEN):
        num_common, _, caps_offset = struct.unpack_from("<III", data, counts)
        fields += [Field("link.num_common_caps", counts, 4), Field("link.num_channel_caps", counts + 4, 4),
                   Field("link.caps_offset", counts + 8, 4)]
        caps = offset + LINK_HEADER_LEN + caps_offset
        if num_common and len(data) >= caps + 4:
            common = _u32(data, caps)
    return Message("link", from_server, offset, LINK_HEADER_LEN + size, None, None, None, fields), common


def messages(conn):
    """The messages of both directions of a connection that starts with its
    link phase (nothing for one that starts mid-connection or uses SASL)."""
    client, server = conn.data(False), conn.data(True)
    client_link, client_caps = _link(client, 0, False)
    server_link, server_caps = _link(server, 0, True)
    if not client_link or not server_link:
        return []
    channel_type = client[LINK_HEADER_LEN + 4] if len(client) > LINK_HEADER_LEN + 4 else 0
    found = [client_link, server_link]
    both = client_caps & server_caps
    client_pos = client_link.length
    mechanism = 1 << CAP_AUTH_SPICE
    if both & (1 << CAP_AUTH_SELECTION) and len(client) >= client_pos + 4:
        mechanism = 1 << _u32(client, client_pos)
        found.append(Message("auth", False, client_pos, 4, None, channel_type, None, []))
        client_pos += 4
    if mechanism != 1 << CAP_AUTH_SPICE:
        return found
    found.append(Message("ticket", False, client_pos, TICKET_LEN, None, channel_type, None, []))
    client_pos += TICKET_LEN
    found.append(Message("result", True, server_link.length, 4, None, channel_type, None, []))
    header_len = MINI_HEADER_LEN if both & (1 << CAP_MINI_HEADER) else FULL_HEADER_LEN
    type_at = 0 if header_len == MINI_HEADER_LEN else 8
    for from_server, data, pos in ((False, client, client_pos), (True, server, server_link.length + 4)):
        while pos + header_len <= len(data):
            msg_type, size = struct.unpack_from("<HI", data, pos + type_at)
            fields = [Field("msg.size", pos + type_at + 2, 4)]
            if header_len == FULL_HEADER_LEN:
                fields.append(Field("msg.sub_list", pos + 14, 4))
            found.append(Message("data", from_server, pos, header_len + size, msg_type, channel_type,
                                 pos + header_len, fields))
            pos += header_len + size
    return found
