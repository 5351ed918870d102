/* spicemig-replacements.c
 * Messages that Wireshark's built-in SPICE dissector (4.0.17, same in 4.4
 * and 4.6) gets wrong on real captures, decoded by spicemig instead of being
 * handed over:
 * - main MAIN_INIT: the built-in shows the session id byte-swapped (it reads
 *   it big-endian: 3165807356 for the bytes bc b2 62 fc, 0xfc62b2bc).
 * - display INVAL_ALL_PIXMAPS: its WaitForChannels body (often just a zero
 *   wait count) gets "message type ... not fully dissected", a false warning.
 * Layouts from spice-common's spice.proto.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <wireshark.h>
#include <epan/packet.h>
#include <epan/tfs.h>
#include <epan/unit_strings.h>

#include "spicemig.h"

/* MAIN_INIT: eight u32. */
#define MAIN_INIT_SESSION_ID_OFFSET     0
#define MAIN_INIT_DISPLAY_HINT_OFFSET   4
#define MAIN_INIT_MOUSE_MODES_OFFSET    8
#define MAIN_INIT_MOUSE_MODE_OFFSET     12
#define MAIN_INIT_AGENT_CONNECTED_OFFSET 16
#define MAIN_INIT_AGENT_TOKENS_OFFSET   20
#define MAIN_INIT_MM_TIME_OFFSET        24
#define MAIN_INIT_RAM_HINT_OFFSET       28
#define MAIN_INIT_LEN                   32

/* INVAL_ALL_PIXMAPS is a WaitForChannels: wait_count u8, then the list. */
#define INVAL_ALL_PIXMAPS_FIXED_LEN 1

static int hf_main_init_session_id = -1;
static int hf_main_init_display_channels_hint = -1;
static int hf_main_init_supported_mouse_modes = -1;
static int hf_main_init_mouse_mode_server = -1;
static int hf_main_init_mouse_mode_client = -1;
static int hf_main_init_current_mouse_mode = -1;
static int hf_main_init_agent_connected = -1;
static int hf_main_init_agent_tokens = -1;
static int hf_main_init_multi_media_time = -1;
static int hf_main_init_ram_hint = -1;

static gint ett_mouse_modes = -1;

static const value_string mouse_mode_vals[] = {
    { SPICE_MOUSE_MODE_SERVER, "Server" },
    { SPICE_MOUSE_MODE_CLIENT, "Client" },
    { 0, NULL }
};

gboolean
spicemig_replaces_builtin(const spicemig_msg_ctx_t *ctx, guint16 type)
{
    if (!ctx->from_server)
        return FALSE;
    return (ctx->channel_type == SPICE_CHANNEL_MAIN && type == SPICE_MSG_MAIN_INIT)
           || (ctx->channel_type == SPICE_CHANNEL_DISPLAY && type == SPICE_MSG_DISPLAY_INVAL_ALL_PIXMAPS);
}

static const char *
dissect_main_init(spicemig_body_t *body, proto_tree *tree)
{
    static int * const mouse_modes[] = {
        &hf_main_init_mouse_mode_server,
        &hf_main_init_mouse_mode_client,
        NULL
    };
    guint32 session_id = 0;

    spicemig_add_fixed_field(body, tree, hf_main_init_session_id, MAIN_INIT_SESSION_ID_OFFSET, 4,
                             NULL, &session_id);
    spicemig_add_fixed_field(body, tree, hf_main_init_display_channels_hint, MAIN_INIT_DISPLAY_HINT_OFFSET, 4,
                             NULL, NULL);
    if (body->len >= MAIN_INIT_MOUSE_MODES_OFFSET + 4)
        proto_tree_add_bitmask(tree, body->tvb, MAIN_INIT_MOUSE_MODES_OFFSET, hf_main_init_supported_mouse_modes,
                               ett_mouse_modes, mouse_modes, ENC_LITTLE_ENDIAN);
    spicemig_add_fixed_field(body, tree, hf_main_init_current_mouse_mode, MAIN_INIT_MOUSE_MODE_OFFSET, 4,
                             NULL, NULL);
    spicemig_add_fixed_field(body, tree, hf_main_init_agent_connected, MAIN_INIT_AGENT_CONNECTED_OFFSET, 4,
                             NULL, NULL);
    spicemig_add_fixed_field(body, tree, hf_main_init_agent_tokens, MAIN_INIT_AGENT_TOKENS_OFFSET, 4, NULL, NULL);
    spicemig_add_fixed_field(body, tree, hf_main_init_multi_media_time, MAIN_INIT_MM_TIME_OFFSET, 4, NULL, NULL);
    spicemig_add_fixed_field(body, tree, hf_main_init_ram_hint, MAIN_INIT_RAM_HINT_OFFSET, 4, NULL, NULL);
    if (!spicemig_check_fixed_part(body, tree, "MAIN_INIT"))
        return "truncated";
    return wmem_strdup_printf(body->pinfo->pool, "session 0x%08x", session_id);
}

const char *
spicemig_dissect_replacement(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree,
                             const spicemig_msg_ctx_t *ctx, guint16 type)
{
    spicemig_body_t body;
    const char *summary;

    if (ctx->channel_type == SPICE_CHANNEL_MAIN) {
        spicemig_body_init(&body, tvb, pinfo, MAIN_INIT_LEN);
        summary = dissect_main_init(&body, tree);
    } else {
        spicemig_body_init(&body, tvb, pinfo, INVAL_ALL_PIXMAPS_FIXED_LEN);
        summary = spicemig_dissect_wait_list(&body, tree, spicemig_message_name(ctx, type));
    }
    spicemig_check_trailing(&body, tree);
    return summary;
}

void
spicemig_register_replacements(int proto)
{
    static hf_register_info hf[] = {
        { &hf_main_init_session_id,
          { "Init session id", "spicemig.main_init.session_id", FT_UINT32, BASE_HEX_DEC, NULL, 0x0,
            "MAIN_INIT: the session id the client puts in the connection id of every other link", HFILL }},
        { &hf_main_init_display_channels_hint,
          { "Display channels hint", "spicemig.main_init.display_channels_hint", FT_UINT32, BASE_DEC, NULL, 0x0,
            "MAIN_INIT: how many display channels the server has", HFILL }},
        { &hf_main_init_supported_mouse_modes,
          { "Supported mouse modes", "spicemig.main_init.supported_mouse_modes", FT_UINT32, BASE_HEX, NULL, 0x0,
            "MAIN_INIT: the mouse modes the server supports", HFILL }},
        { &hf_main_init_mouse_mode_server,
          { "Server mouse mode supported", "spicemig.main_init.supported_mouse_modes.server", FT_BOOLEAN, 32,
            TFS(&tfs_yes_no), SPICE_MOUSE_MODE_SERVER, "SPICE_MOUSE_MODE_SERVER: the server draws the pointer", HFILL }},
        { &hf_main_init_mouse_mode_client,
          { "Client mouse mode supported", "spicemig.main_init.supported_mouse_modes.client", FT_BOOLEAN, 32,
            TFS(&tfs_yes_no), SPICE_MOUSE_MODE_CLIENT, "SPICE_MOUSE_MODE_CLIENT: the client draws the pointer", HFILL }},
        { &hf_main_init_current_mouse_mode,
          { "Current mouse mode", "spicemig.main_init.current_mouse_mode", FT_UINT32, BASE_DEC,
            VALS(mouse_mode_vals), 0x0, "MAIN_INIT: the mouse mode in use", HFILL }},
        { &hf_main_init_agent_connected,
          { "Agent connected", "spicemig.main_init.agent_connected", FT_BOOLEAN, 32, TFS(&tfs_yes_no), 0x0,
            "MAIN_INIT: whether the guest agent is connected", HFILL }},
        { &hf_main_init_agent_tokens,
          { "Agent tokens", "spicemig.main_init.agent_tokens", FT_UINT32, BASE_DEC, NULL, 0x0,
            "MAIN_INIT: messages the client may send to the agent", HFILL }},
        { &hf_main_init_multi_media_time,
          { "Multimedia time", "spicemig.main_init.multi_media_time", FT_UINT32, BASE_DEC | BASE_UNIT_STRING,
            &units_milliseconds, 0x0, "MAIN_INIT: the server's multimedia clock", HFILL }},
        { &hf_main_init_ram_hint,
          { "RAM hint", "spicemig.main_init.ram_hint", FT_UINT32, BASE_DEC | BASE_UNIT_STRING, &units_byte_bytes,
            0x0, "MAIN_INIT: memory the client may use for caches", HFILL }},
    };
    static gint *ett[] = { &ett_mouse_modes };

    proto_register_field_array(proto, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
}
