/* spicemig-replacements.c
 * Messages that Wireshark's built-in SPICE dissector (4.0.17, same in 4.4
 * and 4.6) gets wrong on real captures, decoded by spicemig instead of being
 * handed over:
 * - main MAIN_INIT: the built-in shows the session id byte-swapped (it reads
 *   it big-endian: 3165807356 for the bytes bc b2 62 fc, 0xfc62b2bc).
 * - display INVAL_ALL_PIXMAPS: its WaitForChannels body (often just a zero
 *   wait count) gets "message type ... not fully dissected", a false warning.
 * - port and WebDAV PORT_INIT and PORT_EVENT: "Unknown message"; the built-in
 *   is never given those channels (spicemig-stream.c), spicemig names and
 *   decodes them alone.
 * Layouts from spice-common's spice.proto.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <wireshark.h>
#include <epan/packet.h>
#include <epan/strutil.h>
#include <epan/tfs.h>
#include <epan/unit_strings.h>
#include <wsutil/str_util.h>

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

/* PORT_INIT: name_size u32, name ptr u32 (an offset from the body start to
 * the NUL-terminated name, name_size bytes with its NUL), opened u8. Seen in
 * real captures: 17, 9, 0, then "org.spice.test.0\0" at offset 9. */
#define PORT_INIT_NAME_SIZE_OFFSET 0
#define PORT_INIT_NAME_PTR_OFFSET  4
#define PORT_INIT_OPENED_OFFSET    8
#define PORT_INIT_LEN              9

/* PORT_EVENT, server and client: event u8 (SPICE_PORT_EVENT_*). */
#define PORT_EVENT_EVENT_OFFSET 0
#define PORT_EVENT_LEN          1

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
static int hf_port_init_name_size = -1;
static int hf_port_init_name_ptr = -1;
static int hf_port_init_opened = -1;
static int hf_port_init_name = -1;
static int hf_port_event = -1;

static gint ett_mouse_modes = -1;

static const value_string mouse_mode_vals[] = {
    { SPICE_MOUSE_MODE_SERVER, "Server" },
    { SPICE_MOUSE_MODE_CLIENT, "Client" },
    { 0, NULL }
};

static const value_string port_event_vals[] = {
    { SPICE_PORT_EVENT_OPENED, "Opened" },
    { SPICE_PORT_EVENT_CLOSED, "Closed" },
    { SPICE_PORT_EVENT_BREAK,  "Break" },
    { 0, NULL }
};

static const true_false_string tfs_opened_closed = { "opened", "closed" };

static const char *
dissect_main_init(spicemig_body_t *body, proto_tree *tree, const char *name _U_)
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

/* The name of the guest's port (the virtserialport name, e.g.
 * "org.spice-space.webdav.0") and whether the guest has it open. */
static const char *
dissect_port_init(spicemig_body_t *body, proto_tree *tree, const char *name)
{
    proto_item *ptr_item = NULL;
    guint32 name_size = 0, name_ptr = 0, opened = 0;
    const guint8 *port_name = NULL;

    spicemig_add_fixed_field(body, tree, hf_port_init_name_size, PORT_INIT_NAME_SIZE_OFFSET, 4, NULL, &name_size);
    spicemig_add_fixed_field(body, tree, hf_port_init_name_ptr, PORT_INIT_NAME_PTR_OFFSET, 4, &ptr_item, &name_ptr);
    spicemig_add_fixed_field(body, tree, hf_port_init_opened, PORT_INIT_OPENED_OFFSET, 1, NULL, &opened);
    if (!spicemig_check_fixed_part(body, tree, name))
        return "truncated";
    if (spicemig_check_pointer(body, ptr_item, "Port name offset", name_ptr, name_size) && name_size > 0)
        proto_tree_add_item_ret_string(tree, hf_port_init_name, body->tvb, name_ptr, name_size, ENC_UTF_8,
                                       body->pinfo->pool, &port_name);
    return wmem_strdup_printf(body->pinfo->pool, "%s (%s)",
                              port_name ? spicemig_format_text(body->pinfo->pool, port_name,
                                                               strlen((const char *)port_name))
                                        : "?",
                              tfs_get_string(opened != 0, &tfs_opened_closed));
}

static const char *
dissect_port_event(spicemig_body_t *body, proto_tree *tree, const char *name)
{
    guint32 event;

    if (!spicemig_check_fixed_part(body, tree, name))
        return "truncated";
    proto_tree_add_item_ret_uint(tree, hf_port_event, body->tvb, PORT_EVENT_EVENT_OFFSET, 1, ENC_NA, &event);
    return spicemig_val_to_str(body->pinfo->pool, event, port_event_vals, "event %u");
}

/* One message spicemig decodes instead of the built-in. */
typedef struct {
    guint16     type;
    gboolean    from_server;
    guint8      channel_type;  /* SPICE_CHANNEL_PORT stands for WebDAV too */
    guint32     fixed_len;
    const char *(*dissect)(spicemig_body_t *body, proto_tree *tree, const char *name);
} replacement_t;

static const replacement_t replacements[] = {
    { SPICE_MSG_MAIN_INIT,                 TRUE,  SPICE_CHANNEL_MAIN,    MAIN_INIT_LEN,  dissect_main_init },
    { SPICE_MSG_DISPLAY_INVAL_ALL_PIXMAPS, TRUE,  SPICE_CHANNEL_DISPLAY, INVAL_ALL_PIXMAPS_FIXED_LEN,
      spicemig_dissect_wait_list },
    { SPICE_MSG_PORT_INIT,                 TRUE,  SPICE_CHANNEL_PORT,    PORT_INIT_LEN,  dissect_port_init },
    { SPICE_MSG_PORT_EVENT,                TRUE,  SPICE_CHANNEL_PORT,    PORT_EVENT_LEN, dissect_port_event },
    { SPICE_MSGC_PORT_EVENT,               FALSE, SPICE_CHANNEL_PORT,    PORT_EVENT_LEN, dissect_port_event },
};

/* The types of the table span (set at registration): asked for every data
 * message, most of which (drawing, PING, ACK) lie outside it. */
static guint16 replacement_type_min = G_MAXUINT16, replacement_type_max = 0;

static const replacement_t *
find_replacement(const spicemig_msg_ctx_t *ctx, guint16 type)
{
    guint8 channel_type;
    guint i;

    if (type < replacement_type_min || type > replacement_type_max)
        return NULL;
    channel_type = spicemig_messages_of(ctx->channel_type);
    for (i = 0; i < G_N_ELEMENTS(replacements); i++) {
        const replacement_t *msg = &replacements[i];

        if (msg->type == type && msg->from_server == ctx->from_server && msg->channel_type == channel_type)
            return msg;
    }
    return NULL;
}

gboolean
spicemig_replaces_builtin(const spicemig_msg_ctx_t *ctx, guint16 type)
{
    return find_replacement(ctx, type) != NULL;
}

const char *
spicemig_dissect_replacement(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree,
                             const spicemig_msg_ctx_t *ctx, guint16 type)
{
    const replacement_t *msg = find_replacement(ctx, type);
    spicemig_body_t body;
    const char *summary;

    if (!msg)
        return NULL;
    spicemig_body_init(&body, tvb, pinfo, msg->fixed_len);
    summary = msg->dissect(&body, tree, spicemig_message_name(ctx, type));
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
        { &hf_port_init_name_size,
          { "Port name size", "spicemig.port_init.name_size", FT_UINT32, BASE_DEC | BASE_UNIT_STRING,
            &units_byte_bytes, 0x0, "PORT_INIT: size of the port name, its NUL included", HFILL }},
        { &hf_port_init_name_ptr,
          { "Port name offset", "spicemig.port_init.name_ptr", FT_UINT32, BASE_DEC | BASE_UNIT_STRING,
            &spicemig_units_body_offset, 0x0,
            "PORT_INIT: offset of the port name, counted from the body start: its name size", HFILL }},
        { &hf_port_init_opened,
          { "Port opened", "spicemig.port_init.opened", FT_BOOLEAN, BASE_NONE, TFS(&tfs_yes_no), 0x0,
            "PORT_INIT: whether the guest has the port open", HFILL }},
        { &hf_port_init_name,
          { "Port name", "spicemig.port_init.name", FT_STRINGZ, BASE_NONE, NULL, 0x0,
            "PORT_INIT: the guest's name for the port (its virtserialport name, e.g. org.spice-space.webdav.0)",
            HFILL }},
        { &hf_port_event,
          { "Port event", "spicemig.port_event.event", FT_UINT8, BASE_DEC, VALS(port_event_vals), 0x0,
            "PORT_EVENT: the guest opened or closed the port, or a break", HFILL }},
    };
    static gint *ett[] = { &ett_mouse_modes };
    guint i;

    for (i = 0; i < G_N_ELEMENTS(replacements); i++) {
        replacement_type_min = MIN(replacement_type_min, replacements[i].type);
        replacement_type_max = MAX(replacement_type_max, replacements[i].type);
    }
    proto_register_field_array(proto, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
}
