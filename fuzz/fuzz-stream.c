/* fuzz-stream.c
 * libFuzzer target: the input is both directions of one SPICE TCP
 * connection, link phase included, as a list of segments:
 *
 *   byte 0      options, the server's TCP port: bit 0 set 5900 (the VNC
 *               port spicemig takes over), else bit 1 set 5931 (Decode As
 *               SpiceMig), else 5930 (found by spicemig's heuristic)
 *   then        records: u16 big-endian, bit 15 set for server to client,
 *               bits 0-14 the payload length (cut to what the input holds),
 *               then the payload
 *
 * Each record becomes an IPv4 + TCP frame (consecutive sequence numbers per
 * direction) dissected by the real ip and tcp dissectors, with TCP
 * reassembly on, the way tshark -2 does it: a first pass without a tree,
 * then a second pass over the same frames with a tree and columns. Any
 * exception or dissector bug SpiceMig itself raises ("Malformed Packet:
 * SpiceMig") aborts; those of the built-in SPICE dissector, which spicemig
 * hands messages to, are shown as Wireshark shows them (the first long run
 * found one: a failed "length >= 0" assertion in packet-spice.c).
 * Only the SPICE heuristics (spicemig's and the built-in's) stay enabled on
 * TCP: the target is spicemig, not the other dissectors' heuristics.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "fuzz-epan.h"

#include <stdlib.h>
#include <string.h>

#include <epan/packet.h>

#define IP_HEADER_LEN   20
#define TCP_HEADER_LEN  20
#define MAX_FRAMES      256
#define MAX_PAYLOAD     0x7fff
#define FROM_SERVER_BIT 0x8000
#define PORT_VNC        5900
#define PORT_HEURISTIC  5930
#define PORT_DECODE_AS  5931
/* Each input is its own connection (its own client address), so inputs
 * never share state. Their conversations stay in the session's file scope,
 * about 2 KB each, so a fresh session is started now and then; not often,
 * because libwireshark 4.0 itself keeps about 8 MB per session it starts.
 * Long runs are split into processes of at most a few million inputs. */
#define INPUTS_PER_SESSION 16384

typedef struct {
    guint8    *bytes;
    guint32    len;
    frame_data fd;
} frame_t;

static epan_dissect_t *edt_first_pass;
static epan_dissect_t *edt_second_pass;

static void
put_be16(guint8 *p, guint16 v)
{
    p[0] = (guint8)(v >> 8);
    p[1] = (guint8)v;
}

static void
put_be32(guint8 *p, guint32 v)
{
    put_be16(p, (guint16)(v >> 16));
    put_be16(p + 2, (guint16)v);
}

static void
build_frame(frame_t *frame, const guint8 *payload, guint32 payload_len, gboolean from_server,
            guint32 client_ip, guint16 server_port, guint32 seq, guint32 ack)
{
    static const guint32 server_ip = 0x0a000001; /* 10.0.0.1 */
    guint8 *ip, *tcp;

    frame->len = IP_HEADER_LEN + TCP_HEADER_LEN + payload_len;
    frame->bytes = g_malloc0(frame->len);
    ip = frame->bytes;
    tcp = ip + IP_HEADER_LEN;
    ip[0] = 0x45;
    put_be16(ip + 2, (guint16)frame->len);
    ip[6] = 0x40; /* don't fragment */
    ip[8] = 64;
    ip[9] = 6;    /* TCP */
    put_be32(ip + 12, from_server ? server_ip : client_ip);
    put_be32(ip + 16, from_server ? client_ip : server_ip);
    put_be16(tcp, from_server ? server_port : 40000);
    put_be16(tcp + 2, from_server ? 40000 : server_port);
    put_be32(tcp + 4, seq);
    put_be32(tcp + 8, ack);
    tcp[12] = (TCP_HEADER_LEN / 4) << 4;
    tcp[13] = 0x18; /* PSH, ACK */
    put_be16(tcp + 14, 65535);
    memcpy(tcp + TCP_HEADER_LEN, payload, payload_len);
}

static void
keep_spice_heuristic(const char *table _U_, struct heur_dtbl_entry *entry, gpointer user_data _U_)
{
    entry->enabled = !strcmp(entry->short_name, "spicemig_tcp") || !strcmp(entry->short_name, "spice_tcp");
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const guint8 *buf, size_t len);

int
LLVMFuzzerInitialize(int *argc _U_, char ***argv)
{
    fuzz_epan_init((*argv)[0], NULL, FALSE);
    heur_dissector_table_foreach("tcp", keep_spice_heuristic, NULL);
    dissector_change_uint("tcp.port", PORT_DECODE_AS, find_dissector("spicemig"));
    edt_first_pass = epan_dissect_new(fuzz_epan_session(), FALSE, FALSE);
    edt_second_pass = epan_dissect_new(fuzz_epan_session(), TRUE, TRUE);
    return 0;
}

static void
new_session(void)
{
    epan_dissect_free(edt_first_pass);
    epan_dissect_free(edt_second_pass);
    fuzz_epan_new_session();
    edt_first_pass = epan_dissect_new(fuzz_epan_session(), FALSE, FALSE);
    edt_second_pass = epan_dissect_new(fuzz_epan_session(), TRUE, TRUE);
}

int
LLVMFuzzerTestOneInput(const guint8 *buf, size_t len)
{
    static guint32 inputs, frame_num;
    static frame_t frames[MAX_FRAMES];
    /* Arbitrary, far from 0 so that the stream wraps the 32-bit sequence space soon. */
    guint32 next_seq[2] = { 0xfffff000u, 0x7ffff000u };
    guint32 client_ip, first_num;
    guint16 server_port;
    size_t pos = 1;
    guint n = 0, i;

    if (len < 1)
        return -1;
    if (inputs % INPUTS_PER_SESSION == 0 && inputs > 0) {
        new_session();
        frame_num = 0;
    }
    client_ip = 0x0b000000u | (inputs % INPUTS_PER_SESSION); /* 11.0.x.y */
    inputs++;
    server_port = (buf[0] & 1) ? PORT_VNC : (buf[0] & 2) ? PORT_DECODE_AS : PORT_HEURISTIC;

    while (pos + 2 <= len && n < MAX_FRAMES) {
        guint16 word = (guint16)(buf[pos] << 8 | buf[pos + 1]);
        gboolean from_server = (word & FROM_SERVER_BIT) != 0;
        guint32 payload_len = MIN(word & MAX_PAYLOAD, len - pos - 2);

        pos += 2;
        if (payload_len == 0)
            continue;
        build_frame(&frames[n++], buf + pos, payload_len, from_server, client_ip, server_port,
                    next_seq[from_server], next_seq[!from_server]);
        next_seq[from_server] += payload_len;
        pos += payload_len;
    }

    first_num = frame_num + 1;
    for (i = 0; i < n; i++) {
        fuzz_epan_dissect(edt_first_pass, &frames[i].fd, first_num + i, WTAP_ENCAP_RAW_IP,
                          frames[i].bytes, frames[i].len, TRUE, NULL);
        epan_dissect_reset(edt_first_pass);
    }
    for (i = 0; i < n; i++) {
        fuzz_epan_dissect(edt_second_pass, &frames[i].fd, first_num + i, WTAP_ENCAP_RAW_IP,
                          frames[i].bytes, frames[i].len, FALSE, fuzz_epan_columns());
        fuzz_epan_assert_not_malformed(edt_second_pass, "second pass");
        epan_dissect_reset(edt_second_pass);
    }
    frame_num += n;
    for (i = 0; i < n; i++) {
        frame_data_destroy(&frames[i].fd);
        g_free(frames[i].bytes);
    }
    return 0;
}
