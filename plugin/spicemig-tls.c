/* spicemig-tls.c
 * SPICE carried in TLS (a SPICE server's tls-port): once Wireshark has
 * decrypted the records (tls.keylog_file), the TLS dissector hands their
 * application data to spicemig, which frames it exactly as on TCP.
 *
 * The framing remembers positions in each direction's byte stream. TLS
 * 4.4 passes its subdissectors a position (struct tlsinfo.seq), 4.0 none,
 * so spicemig derives one that every Wireshark version gives alike:
 * the frame number, and how many bytes spicemig framed in the frame's
 * earlier records. Each pass hands a frame's records over in the same
 * order; a record that started a reassembly of which nothing was framed
 * may be skipped on later passes, and it moves no position. The count
 * lives in packet scope: no state per message or per frame is kept.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <wireshark.h>
#include <epan/packet.h>
#include <epan/conversation.h>
#include <epan/proto_data.h>

#include "spicemig.h"

#define TLS_HANDSHAKE_RECORD 22 /* TLS ContentType handshake */

static dissector_handle_t spicemig_tls_handle;
static dissector_handle_t tls_handle;

static expert_field ei_need_secured;

static spicemig_pos_t
tls_position(packet_info *pinfo)
{
    guint consumed = GPOINTER_TO_UINT(p_get_proto_data(pinfo->pool, pinfo, proto_spicemig,
                                                       SPICEMIG_KEY_TLS_CONSUMED));

    return ((spicemig_pos_t)pinfo->num << 32) | consumed;
}

static void
dissect_records(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, spicemig_pos_t pos)
{
    guint consumed = (guint)(pos & G_MAXUINT32);

    consumed += (guint)spicemig_stream_dissect(tvb, pinfo, tree, NULL, pos);
    p_add_proto_data(pinfo->pool, pinfo, proto_spicemig, SPICEMIG_KEY_TLS_CONSUMED,
                     GUINT_TO_POINTER(consumed));
}

/* The session's application dissector once claimed (or chosen by Decode As). */
static int
dissect_spicemig_tls(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    spicemig_pos_t pos = tls_position(pinfo);

    if (!spicemig_stream_owns(pinfo) && !spicemig_stream_claim(tvb, pinfo, pos, tls_handle))
        return 0;
    dissect_records(tvb, pinfo, tree, pos);
    return tvb_captured_length(tvb);
}

static spicemig_heur_result_t
dissect_spicemig_tls_heur(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    spicemig_pos_t pos = tls_position(pinfo);

    if (!spicemig_stream_owns(pinfo) && !spicemig_stream_claim(tvb, pinfo, pos, tls_handle))
        return FALSE;
    /* TLS calls the session's application dissector directly from now on. */
    if (data)
        *SPICEMIG_TLS_APP_HANDLE(data) = spicemig_tls_handle;
    dissect_records(tvb, pinfo, tree, pos);
    return TRUE;
}

int
spicemig_tls_dissect_handshake(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    conversation_t *conversation;

    /* TLS record header: content type handshake, protocol version 3.x (SSL 3.0 to TLS 1.3). */
    if (!tls_handle || tvb_captured_length(tvb) < 3 || spicemig_tvb_get_u8(tvb, 0) != TLS_HANDSHAKE_RECORD
        || spicemig_tvb_get_u8(tvb, 1) != 3 || spicemig_tvb_get_u8(tvb, 2) > 4)
        return 0;
    conversation = find_or_create_conversation(pinfo);
    /* A connection made from a known server's template shares the
     * template's dissector (spicemig-stream.c, know_server()): left alone. */
    if (!conversation_get_dissector(conversation, pinfo->num))
        conversation_set_dissector(conversation, tls_handle);
    return call_dissector_with_data(tls_handle, tvb, pinfo, tree, data);
}

void
spicemig_tls_check_link_error(packet_info *pinfo, proto_item *error_item, guint8 channel_type,
                              guint32 error)
{
    if (error == SPICE_LINK_ERR_NEED_SECURED)
        expert_add_info_format(pinfo, error_item, &ei_need_secured,
                               "The server accepts the %s channel only over TLS "
                               "(SPICE_LINK_ERR_NEED_SECURED): the client reconnects on the TLS port",
                               spicemig_channel_name(channel_type));
}

void
spicemig_register_tls(int proto, expert_module_t *expert)
{
    static ei_register_info ei[] = {
        { &ei_need_secured, { "spicemig.link.need_secured", PI_SECURITY, PI_NOTE,
            "The server accepts this channel only over TLS (SPICE_LINK_ERR_NEED_SECURED)", EXPFILL } },
    };

    expert_register_field_array(expert, ei, array_length(ei));
    spicemig_tls_handle = register_dissector("spicemig_tls", dissect_spicemig_tls, proto);
}

void
spicemig_handoff_tls(void)
{
    tls_handle = find_dissector("tls");
    heur_dissector_add("tls", dissect_spicemig_tls_heur, "SPICE over TLS (spicemig)", "spicemig_tls",
                       proto_spicemig, HEURISTIC_ENABLE);
    dissector_add_for_decode_as("tls.port", spicemig_tls_handle);
}
