"""Edits the TCP/IPv4 packets of a pcapng capture in place, for the tools
that derive test captures from real ones (rewrite-capture-hosts,
alter-forwarded-body). Python standard library only.

Only Ethernet/IPv4/TCP packets are handed to the editor; every other block
and packet is copied unchanged. The editor may change addresses, ports and
payload bytes but not the payload length; the IPv4 and TCP checksums are
recomputed.
"""

import struct

ENHANCED_PACKET_BLOCK = 6
SECTION_HEADER_BLOCK = 0x0A0D0D0A
ETHERTYPE_IPV4 = 0x0800
IPPROTO_TCP = 6
ETHERNET_HEADER_LEN = 14


class TcpPacket:
    """One TCP segment: src/dst as (IPv4 bytes, port), payload a bytearray."""

    def __init__(self, number, src, dst, payload):
        self.number = number
        self.src = src
        self.dst = dst
        self.payload = payload


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _edit_frame(frame, number, editor):
    if len(frame) < ETHERNET_HEADER_LEN + 20 or struct.unpack_from("!H", frame, 12)[0] != ETHERTYPE_IPV4:
        return frame
    ip = ETHERNET_HEADER_LEN
    ihl = (frame[ip] & 0x0F) * 4
    total_len = struct.unpack_from("!H", frame, ip + 2)[0]
    if frame[ip + 9] != IPPROTO_TCP or ip + total_len > len(frame):
        return frame
    tcp = ip + ihl
    data_offset = (frame[tcp + 12] >> 4) * 4
    payload_start = tcp + data_offset
    payload_end = ip + total_len
    packet = TcpPacket(number,
                       (bytes(frame[ip + 12:ip + 16]), struct.unpack_from("!H", frame, tcp)[0]),
                       (bytes(frame[ip + 16:ip + 20]), struct.unpack_from("!H", frame, tcp + 2)[0]),
                       bytearray(frame[payload_start:payload_end]))
    editor(packet)
    if len(packet.payload) != payload_end - payload_start:
        raise ValueError("frame %d: the editor changed the payload length" % number)
    frame = bytearray(frame)
    frame[ip + 12:ip + 16] = packet.src[0]
    frame[ip + 16:ip + 20] = packet.dst[0]
    struct.pack_into("!HH", frame, tcp, packet.src[1], packet.dst[1])
    frame[payload_start:payload_end] = packet.payload
    struct.pack_into("!H", frame, ip + 10, 0)
    struct.pack_into("!H", frame, ip + 10, _checksum(bytes(frame[ip:ip + ihl])))
    struct.pack_into("!H", frame, tcp + 16, 0)
    pseudo = bytes(frame[ip + 12:ip + 20]) + struct.pack("!BBH", 0, IPPROTO_TCP, payload_end - tcp)
    struct.pack_into("!H", frame, tcp + 16, _checksum(pseudo + bytes(frame[tcp:payload_end])))
    return bytes(frame)


def edit_pcapng(in_path, out_path, editor):
    """Calls editor(TcpPacket) for every Ethernet/IPv4/TCP packet, in order,
    numbered from 1 like Wireshark's frames."""
    data = open(in_path, "rb").read()
    out = bytearray()
    offset = 0
    number = 0
    endian = "<"
    while offset < len(data):
        block_type = struct.unpack_from("<I", data, offset)[0]
        if block_type == SECTION_HEADER_BLOCK:
            endian = "<" if data[offset + 8:offset + 12] == b"\x4d\x3c\x2b\x1a" else ">"
        block_type, block_len = struct.unpack_from(endian + "II", data, offset)
        block = data[offset:offset + block_len]
        if block_type == ENHANCED_PACKET_BLOCK:
            number += 1
            captured = struct.unpack_from(endian + "I", block, 20)[0]
            frame = block[28:28 + captured]
            edited = _edit_frame(frame, number, editor)
            block = block[:28] + edited + block[28 + captured:]
        out += block
        offset += block_len
    open(out_path, "wb").write(bytes(out))
