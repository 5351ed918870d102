/* spicemig-names.c
 * Names of SPICE channels and messages, per channel and direction, built
 * from spice-protocol's enums so that a message can be named even when the
 * built-in SPICE dissector cannot decode it (captures that start
 * mid-connection, messages spicemig decodes itself).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <wireshark.h>

#include "spicemig.h"

const value_string spicemig_channel_type_vals[] = {
    { SPICE_CHANNEL_MAIN,      "Main" },
    { SPICE_CHANNEL_DISPLAY,   "Display" },
    { SPICE_CHANNEL_INPUTS,    "Inputs" },
    { SPICE_CHANNEL_CURSOR,    "Cursor" },
    { SPICE_CHANNEL_PLAYBACK,  "Playback" },
    { SPICE_CHANNEL_RECORD,    "Record" },
    { SPICE_CHANNEL_TUNNEL,    "Tunnel" },
    { SPICE_CHANNEL_SMARTCARD, "Smartcard" },
    { SPICE_CHANNEL_USBREDIR,  "USB redirection" },
    { SPICE_CHANNEL_PORT,      "Port" },
    { SPICE_CHANNEL_WEBDAV,    "WebDAV" },
    { 0, NULL }
};

static const value_string common_server_vals[] = {
    { SPICE_MSG_MIGRATE, "MIGRATE" },
    { SPICE_MSG_MIGRATE_DATA, "MIGRATE_DATA" },
    { SPICE_MSG_SET_ACK, "SET_ACK" },
    { SPICE_MSG_PING, "PING" },
    { SPICE_MSG_WAIT_FOR_CHANNELS, "WAIT_FOR_CHANNELS" },
    { SPICE_MSG_DISCONNECTING, "DISCONNECTING" },
    { SPICE_MSG_NOTIFY, "NOTIFY" },
    { SPICE_MSG_LIST, "LIST" },
    { 0, NULL }
};

static const value_string common_client_vals[] = {
    { SPICE_MSGC_ACK_SYNC, "ACK_SYNC" },
    { SPICE_MSGC_ACK, "ACK" },
    { SPICE_MSGC_PONG, "PONG" },
    { SPICE_MSGC_MIGRATE_FLUSH_MARK, "MIGRATE_FLUSH_MARK" },
    { SPICE_MSGC_MIGRATE_DATA, "MIGRATE_DATA" },
    { SPICE_MSGC_DISCONNECTING, "DISCONNECTING" },
    { 0, NULL }
};

static const value_string main_server_vals[] = {
    { SPICE_MSG_MAIN_MIGRATE_BEGIN, "MIGRATE_BEGIN" },
    { SPICE_MSG_MAIN_MIGRATE_CANCEL, "MIGRATE_CANCEL" },
    { SPICE_MSG_MAIN_INIT, "INIT" },
    { SPICE_MSG_MAIN_CHANNELS_LIST, "CHANNELS_LIST" },
    { SPICE_MSG_MAIN_MOUSE_MODE, "MOUSE_MODE" },
    { SPICE_MSG_MAIN_MULTI_MEDIA_TIME, "MULTI_MEDIA_TIME" },
    { SPICE_MSG_MAIN_AGENT_CONNECTED, "AGENT_CONNECTED" },
    { SPICE_MSG_MAIN_AGENT_DISCONNECTED, "AGENT_DISCONNECTED" },
    { SPICE_MSG_MAIN_AGENT_DATA, "AGENT_DATA" },
    { SPICE_MSG_MAIN_AGENT_TOKEN, "AGENT_TOKEN" },
    { SPICE_MSG_MAIN_MIGRATE_SWITCH_HOST, "MIGRATE_SWITCH_HOST" },
    { SPICE_MSG_MAIN_MIGRATE_END, "MIGRATE_END" },
    { SPICE_MSG_MAIN_NAME, "NAME" },
    { SPICE_MSG_MAIN_UUID, "UUID" },
    { SPICE_MSG_MAIN_AGENT_CONNECTED_TOKENS, "AGENT_CONNECTED_TOKENS" },
    { SPICE_MSG_MAIN_MIGRATE_BEGIN_SEAMLESS, "MIGRATE_BEGIN_SEAMLESS" },
    { SPICE_MSG_MAIN_MIGRATE_DST_SEAMLESS_ACK, "MIGRATE_DST_SEAMLESS_ACK" },
    { SPICE_MSG_MAIN_MIGRATE_DST_SEAMLESS_NACK, "MIGRATE_DST_SEAMLESS_NACK" },
    { 0, NULL }
};

static const value_string main_client_vals[] = {
    { SPICE_MSGC_MAIN_CLIENT_INFO, "CLIENT_INFO" },
    { SPICE_MSGC_MAIN_MIGRATE_CONNECTED, "MIGRATE_CONNECTED" },
    { SPICE_MSGC_MAIN_MIGRATE_CONNECT_ERROR, "MIGRATE_CONNECT_ERROR" },
    { SPICE_MSGC_MAIN_ATTACH_CHANNELS, "ATTACH_CHANNELS" },
    { SPICE_MSGC_MAIN_MOUSE_MODE_REQUEST, "MOUSE_MODE_REQUEST" },
    { SPICE_MSGC_MAIN_AGENT_START, "AGENT_START" },
    { SPICE_MSGC_MAIN_AGENT_DATA, "AGENT_DATA" },
    { SPICE_MSGC_MAIN_AGENT_TOKEN, "AGENT_TOKEN" },
    { SPICE_MSGC_MAIN_MIGRATE_END, "MIGRATE_END" },
    { SPICE_MSGC_MAIN_MIGRATE_DST_DO_SEAMLESS, "MIGRATE_DST_DO_SEAMLESS" },
    { SPICE_MSGC_MAIN_MIGRATE_CONNECTED_SEAMLESS, "MIGRATE_CONNECTED_SEAMLESS" },
    { SPICE_MSGC_MAIN_QUALITY_INDICATOR, "QUALITY_INDICATOR" },
    { 0, NULL }
};

static const value_string display_server_vals[] = {
    { SPICE_MSG_DISPLAY_MODE, "MODE" },
    { SPICE_MSG_DISPLAY_MARK, "MARK" },
    { SPICE_MSG_DISPLAY_RESET, "RESET" },
    { SPICE_MSG_DISPLAY_COPY_BITS, "COPY_BITS" },
    { SPICE_MSG_DISPLAY_INVAL_LIST, "INVAL_LIST" },
    { SPICE_MSG_DISPLAY_INVAL_ALL_PIXMAPS, "INVAL_ALL_PIXMAPS" },
    { SPICE_MSG_DISPLAY_INVAL_PALETTE, "INVAL_PALETTE" },
    { SPICE_MSG_DISPLAY_INVAL_ALL_PALETTES, "INVAL_ALL_PALETTES" },
    { SPICE_MSG_DISPLAY_STREAM_CREATE, "STREAM_CREATE" },
    { SPICE_MSG_DISPLAY_STREAM_DATA, "STREAM_DATA" },
    { SPICE_MSG_DISPLAY_STREAM_CLIP, "STREAM_CLIP" },
    { SPICE_MSG_DISPLAY_STREAM_DESTROY, "STREAM_DESTROY" },
    { SPICE_MSG_DISPLAY_STREAM_DESTROY_ALL, "STREAM_DESTROY_ALL" },
    { SPICE_MSG_DISPLAY_DRAW_FILL, "DRAW_FILL" },
    { SPICE_MSG_DISPLAY_DRAW_OPAQUE, "DRAW_OPAQUE" },
    { SPICE_MSG_DISPLAY_DRAW_COPY, "DRAW_COPY" },
    { SPICE_MSG_DISPLAY_DRAW_BLEND, "DRAW_BLEND" },
    { SPICE_MSG_DISPLAY_DRAW_BLACKNESS, "DRAW_BLACKNESS" },
    { SPICE_MSG_DISPLAY_DRAW_WHITENESS, "DRAW_WHITENESS" },
    { SPICE_MSG_DISPLAY_DRAW_INVERS, "DRAW_INVERS" },
    { SPICE_MSG_DISPLAY_DRAW_ROP3, "DRAW_ROP3" },
    { SPICE_MSG_DISPLAY_DRAW_STROKE, "DRAW_STROKE" },
    { SPICE_MSG_DISPLAY_DRAW_TEXT, "DRAW_TEXT" },
    { SPICE_MSG_DISPLAY_DRAW_TRANSPARENT, "DRAW_TRANSPARENT" },
    { SPICE_MSG_DISPLAY_DRAW_ALPHA_BLEND, "DRAW_ALPHA_BLEND" },
    { SPICE_MSG_DISPLAY_SURFACE_CREATE, "SURFACE_CREATE" },
    { SPICE_MSG_DISPLAY_SURFACE_DESTROY, "SURFACE_DESTROY" },
    { SPICE_MSG_DISPLAY_STREAM_DATA_SIZED, "STREAM_DATA_SIZED" },
    { SPICE_MSG_DISPLAY_MONITORS_CONFIG, "MONITORS_CONFIG" },
    { SPICE_MSG_DISPLAY_DRAW_COMPOSITE, "DRAW_COMPOSITE" },
    { SPICE_MSG_DISPLAY_STREAM_ACTIVATE_REPORT, "STREAM_ACTIVATE_REPORT" },
    { SPICE_MSG_DISPLAY_GL_SCANOUT_UNIX, "GL_SCANOUT_UNIX" },
    { SPICE_MSG_DISPLAY_GL_DRAW, "GL_DRAW" },
    { SPICE_MSG_DISPLAY_QUALITY_INDICATOR, "QUALITY_INDICATOR" },
    { 0, NULL }
};

static const value_string display_client_vals[] = {
    { SPICE_MSGC_DISPLAY_INIT, "INIT" },
    { SPICE_MSGC_DISPLAY_STREAM_REPORT, "STREAM_REPORT" },
    { SPICE_MSGC_DISPLAY_PREFERRED_COMPRESSION, "PREFERRED_COMPRESSION" },
    { SPICE_MSGC_DISPLAY_GL_DRAW_DONE, "GL_DRAW_DONE" },
    { SPICE_MSGC_DISPLAY_PREFERRED_VIDEO_CODEC_TYPE, "PREFERRED_VIDEO_CODEC_TYPE" },
    { 0, NULL }
};

static const value_string inputs_server_vals[] = {
    { SPICE_MSG_INPUTS_INIT, "INIT" },
    { SPICE_MSG_INPUTS_KEY_MODIFIERS, "KEY_MODIFIERS" },
    { SPICE_MSG_INPUTS_MOUSE_MOTION_ACK, "MOUSE_MOTION_ACK" },
    { 0, NULL }
};

static const value_string inputs_client_vals[] = {
    { SPICE_MSGC_INPUTS_KEY_DOWN, "KEY_DOWN" },
    { SPICE_MSGC_INPUTS_KEY_UP, "KEY_UP" },
    { SPICE_MSGC_INPUTS_KEY_MODIFIERS, "KEY_MODIFIERS" },
    { SPICE_MSGC_INPUTS_KEY_SCANCODE, "KEY_SCANCODE" },
    { SPICE_MSGC_INPUTS_MOUSE_MOTION, "MOUSE_MOTION" },
    { SPICE_MSGC_INPUTS_MOUSE_POSITION, "MOUSE_POSITION" },
    { SPICE_MSGC_INPUTS_MOUSE_PRESS, "MOUSE_PRESS" },
    { SPICE_MSGC_INPUTS_MOUSE_RELEASE, "MOUSE_RELEASE" },
    { 0, NULL }
};

static const value_string cursor_server_vals[] = {
    { SPICE_MSG_CURSOR_INIT, "INIT" },
    { SPICE_MSG_CURSOR_RESET, "RESET" },
    { SPICE_MSG_CURSOR_SET, "SET" },
    { SPICE_MSG_CURSOR_MOVE, "MOVE" },
    { SPICE_MSG_CURSOR_HIDE, "HIDE" },
    { SPICE_MSG_CURSOR_TRAIL, "TRAIL" },
    { SPICE_MSG_CURSOR_INVAL_ONE, "INVAL_ONE" },
    { SPICE_MSG_CURSOR_INVAL_ALL, "INVAL_ALL" },
    { 0, NULL }
};

static const value_string playback_server_vals[] = {
    { SPICE_MSG_PLAYBACK_DATA, "DATA" },
    { SPICE_MSG_PLAYBACK_MODE, "MODE" },
    { SPICE_MSG_PLAYBACK_START, "START" },
    { SPICE_MSG_PLAYBACK_STOP, "STOP" },
    { SPICE_MSG_PLAYBACK_VOLUME, "VOLUME" },
    { SPICE_MSG_PLAYBACK_MUTE, "MUTE" },
    { SPICE_MSG_PLAYBACK_LATENCY, "LATENCY" },
    { 0, NULL }
};

static const value_string record_server_vals[] = {
    { SPICE_MSG_RECORD_START, "START" },
    { SPICE_MSG_RECORD_STOP, "STOP" },
    { SPICE_MSG_RECORD_VOLUME, "VOLUME" },
    { SPICE_MSG_RECORD_MUTE, "MUTE" },
    { 0, NULL }
};

static const value_string record_client_vals[] = {
    { SPICE_MSGC_RECORD_DATA, "DATA" },
    { SPICE_MSGC_RECORD_MODE, "MODE" },
    { SPICE_MSGC_RECORD_START_MARK, "START_MARK" },
    { 0, NULL }
};

static const value_string smartcard_server_vals[] = {
    { SPICE_MSG_SMARTCARD_DATA, "DATA" },
    { 0, NULL }
};

static const value_string spicevmc_server_vals[] = {
    { SPICE_MSG_SPICEVMC_DATA, "DATA" },
    { SPICE_MSG_SPICEVMC_COMPRESSED_DATA, "COMPRESSED_DATA" },
    { 0, NULL }
};

static const value_string spicevmc_client_vals[] = {
    { SPICE_MSGC_SPICEVMC_DATA, "DATA" },
    { SPICE_MSGC_SPICEVMC_COMPRESSED_DATA, "COMPRESSED_DATA" },
    { 0, NULL }
};

/* Named with their PORT_ prefix: the WebDAV channel has them too (spice.proto:
 * WebDAVChannel : PortChannel), and one name on both keeps spicemig.msg.name
 * and the Info column the same on either channel. */
static const value_string port_server_vals[] = {
    { SPICE_MSG_PORT_INIT, "PORT_INIT" },
    { SPICE_MSG_PORT_EVENT, "PORT_EVENT" },
    { 0, NULL }
};

static const value_string port_client_vals[] = {
    { SPICE_MSGC_PORT_EVENT, "PORT_EVENT" },
    { 0, NULL }
};
static const value_string smartcard_client_vals[] = {
    { SPICE_MSGC_SMARTCARD_DATA, "DATA" },
    { 0, NULL }
};

/* Looked up once per message: the extended form indexes the (sorted,
 * mostly consecutive) tables directly instead of scanning them. */
static value_string_ext common_server_ext = VALUE_STRING_EXT_INIT(common_server_vals);
static value_string_ext common_client_ext = VALUE_STRING_EXT_INIT(common_client_vals);
static value_string_ext main_server_ext = VALUE_STRING_EXT_INIT(main_server_vals);
static value_string_ext main_client_ext = VALUE_STRING_EXT_INIT(main_client_vals);
static value_string_ext display_server_ext = VALUE_STRING_EXT_INIT(display_server_vals);
static value_string_ext display_client_ext = VALUE_STRING_EXT_INIT(display_client_vals);
static value_string_ext inputs_server_ext = VALUE_STRING_EXT_INIT(inputs_server_vals);
static value_string_ext inputs_client_ext = VALUE_STRING_EXT_INIT(inputs_client_vals);
static value_string_ext cursor_server_ext = VALUE_STRING_EXT_INIT(cursor_server_vals);
static value_string_ext playback_server_ext = VALUE_STRING_EXT_INIT(playback_server_vals);
static value_string_ext record_server_ext = VALUE_STRING_EXT_INIT(record_server_vals);
static value_string_ext record_client_ext = VALUE_STRING_EXT_INIT(record_client_vals);
static value_string_ext smartcard_server_ext = VALUE_STRING_EXT_INIT(smartcard_server_vals);
static value_string_ext spicevmc_server_ext = VALUE_STRING_EXT_INIT(spicevmc_server_vals);
static value_string_ext spicevmc_client_ext = VALUE_STRING_EXT_INIT(spicevmc_client_vals);
static value_string_ext port_server_ext = VALUE_STRING_EXT_INIT(port_server_vals);
static value_string_ext port_client_ext = VALUE_STRING_EXT_INIT(port_client_vals);
static value_string_ext smartcard_client_ext = VALUE_STRING_EXT_INIT(smartcard_client_vals);

/* Channel-specific message names (types above SPICE_MSG_BASE_LAST) for one direction. */
static value_string_ext *
channel_message_vals(guint8 channel_type, gboolean from_server)
{
    switch (channel_type) {
    case SPICE_CHANNEL_MAIN:      return from_server ? &main_server_ext : &main_client_ext;
    case SPICE_CHANNEL_DISPLAY:   return from_server ? &display_server_ext : &display_client_ext;
    case SPICE_CHANNEL_INPUTS:    return from_server ? &inputs_server_ext : &inputs_client_ext;
    case SPICE_CHANNEL_CURSOR:    return from_server ? &cursor_server_ext : NULL;
    case SPICE_CHANNEL_PLAYBACK:  return from_server ? &playback_server_ext : NULL;
    case SPICE_CHANNEL_RECORD:    return from_server ? &record_server_ext : &record_client_ext;
    case SPICE_CHANNEL_SMARTCARD: return from_server ? &smartcard_server_ext : &smartcard_client_ext;
    case SPICE_CHANNEL_USBREDIR:  return from_server ? &spicevmc_server_ext : &spicevmc_client_ext;
    default:                      return NULL;
    }
}

/* The message's name, NULL when this channel and direction have no such message. */
static const char *
lookup_message_name(const spicemig_msg_ctx_t *ctx, guint16 type)
{
    value_string_ext *vals;
    const char *name = NULL;

    if (type <= SPICE_MSG_BASE_LAST) {
        vals = ctx->from_server ? &common_server_ext : &common_client_ext;
    } else if (spicemig_messages_of(ctx->channel_type) == SPICE_CHANNEL_PORT) {
        /* The port channel adds its own messages to the spicevmc ones. */
        name = try_val_to_str_ext(type, ctx->from_server ? &port_server_ext : &port_client_ext);
        vals = ctx->from_server ? &spicevmc_server_ext : &spicevmc_client_ext;
    } else {
        vals = channel_message_vals(ctx->channel_type, ctx->from_server);
    }
    if (!name && vals)
        name = try_val_to_str_ext(type, vals);
    return name;
}

const char *
spicemig_message_name(const spicemig_msg_ctx_t *ctx, guint16 type)
{
    const char *name = lookup_message_name(ctx, type);

    return name ? name : "Unknown message";
}

gboolean
spicemig_message_known(const spicemig_msg_ctx_t *ctx, guint16 type)
{
    return lookup_message_name(ctx, type) != NULL;
}

const char *
spicemig_channel_name(guint8 channel_type)
{
    static value_string_ext channel_type_ext = VALUE_STRING_EXT_INIT(spicemig_channel_type_vals);
    const char *name = try_val_to_str_ext(channel_type, &channel_type_ext);

    return name ? name : "SPICE";
}

#define RIGHTWARDS_ARROW "\xe2\x86\x92" /* U+2192, as in the hop "source→client" */

const char *
spicemig_hop_ascii(wmem_allocator_t *scope, const char *hop)
{
    const char *arrow = strstr(hop, RIGHTWARDS_ARROW);

    if (!arrow)
        return hop;
    return wmem_strdup_printf(scope, "%.*s->%s", (int)(arrow - hop), hop, arrow + strlen(RIGHTWARDS_ARROW));
}
