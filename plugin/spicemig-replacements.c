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
 * - main AGENT_DATA, both directions: the built-in reads every chunk as a
 *   whole agent message, so it throws (Malformed) on the first chunk of a
 *   message longer than a chunk and calls the next ones "Unknown agent
 *   message"; spicemig-agent.c puts the chunks back together.
 * - display client STREAM_REPORT, PREFERRED_COMPRESSION, GL_DRAW_DONE and
 *   PREFERRED_VIDEO_CODEC_TYPE: "Unknown display client message" (the
 *   built-in knows only INIT).
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

/* STREAM_REPORT: stream_id u32, unique_id u32, start_frame_mm_time u32,
 * end_frame_mm_time u32, num_frames u32, num_drops u32, last_frame_delay
 * i32, audio_delay u32. */
#define STREAM_REPORT_STREAM_ID_OFFSET   0
#define STREAM_REPORT_UNIQUE_ID_OFFSET   4
#define STREAM_REPORT_START_TIME_OFFSET  8
#define STREAM_REPORT_END_TIME_OFFSET    12
#define STREAM_REPORT_NUM_FRAMES_OFFSET  16
#define STREAM_REPORT_NUM_DROPS_OFFSET   20
#define STREAM_REPORT_LAST_DELAY_OFFSET  24
#define STREAM_REPORT_AUDIO_DELAY_OFFSET 28
#define STREAM_REPORT_LEN                32
/* num_frames 0 with num_drops ~0: the client cannot decode the stream (spice.proto). */
#define STREAM_REPORT_NOT_SUPPORTED      G_MAXUINT32

/* PREFERRED_COMPRESSION: image_compression u8. */
#define PREFERRED_COMPRESSION_LEN 1

/* PREFERRED_VIDEO_CODEC_TYPE: num_of_codecs u8, then that many u8 codecs. */
#define PREFERRED_VIDEO_CODEC_FIXED_LEN 1

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
static int hf_stream_report_stream_id = -1;
static int hf_stream_report_unique_id = -1;
static int hf_stream_report_start_frame_mm_time = -1;
static int hf_stream_report_end_frame_mm_time = -1;
static int hf_stream_report_num_frames = -1;
static int hf_stream_report_num_drops = -1;
static int hf_stream_report_last_frame_delay = -1;
static int hf_stream_report_audio_delay = -1;
static int hf_preferred_compression = -1;
static int hf_preferred_video_codec_count = -1;
static int hf_preferred_video_codec = -1;

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

static const value_string image_compression_vals[] = {
    { SPICE_IMAGE_COMPRESSION_INVALID,  "INVALID" },
    { SPICE_IMAGE_COMPRESSION_OFF,      "OFF" },
    { SPICE_IMAGE_COMPRESSION_AUTO_GLZ, "AUTO_GLZ" },
    { SPICE_IMAGE_COMPRESSION_AUTO_LZ,  "AUTO_LZ" },
    { SPICE_IMAGE_COMPRESSION_QUIC,     "QUIC" },
    { SPICE_IMAGE_COMPRESSION_GLZ,      "GLZ" },
    { SPICE_IMAGE_COMPRESSION_LZ,       "LZ" },
    { SPICE_IMAGE_COMPRESSION_LZ4,      "LZ4" },
    { 0, NULL }
};

static const value_string video_codec_vals[] = {
    { SPICE_VIDEO_CODEC_TYPE_MJPEG, "MJPEG" },
    { SPICE_VIDEO_CODEC_TYPE_VP8,   "VP8" },
    { SPICE_VIDEO_CODEC_TYPE_H264,  "H264" },
    { SPICE_VIDEO_CODEC_TYPE_VP9,   "VP9" },
    { SPICE_VIDEO_CODEC_TYPE_H265,  "H265" },
    { 0, NULL }
};

/* audio_delay: ~0 when there is no audio playback (spice.proto). */
static const value_string audio_delay_vals[] = {
    { G_MAXUINT32, "no audio" },
    { 0, NULL }
};

static const true_false_string tfs_opened_closed = { "opened", "closed" };

static const char *
dissect_main_init(spicemig_body_t *body, proto_tree *tree, const char *name _U_,
                  const spicemig_msg_ctx_t *ctx _U_)
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
dissect_port_init(spicemig_body_t *body, proto_tree *tree, const char *name, const spicemig_msg_ctx_t *ctx _U_)
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
dissect_port_event(spicemig_body_t *body, proto_tree *tree, const char *name, const spicemig_msg_ctx_t *ctx _U_)
{
    guint32 event;

    if (!spicemig_check_fixed_part(body, tree, name))
        return "truncated";
    proto_tree_add_item_ret_uint(tree, hf_port_event, body->tvb, PORT_EVENT_EVENT_OFFSET, 1, ENC_NA, &event);
    return spicemig_val_to_str(body->pinfo->pool, event, port_event_vals, "event %u");
}

static const char *
dissect_wait_list(spicemig_body_t *body, proto_tree *tree, const char *name, const spicemig_msg_ctx_t *ctx _U_)
{
    return spicemig_dissect_wait_list(body, tree, name);
}

static const char *
dissect_agent_data(spicemig_body_t *body, proto_tree *tree, const char *name _U_, const spicemig_msg_ctx_t *ctx)
{
    return spicemig_dissect_agent_data(body, tree, ctx);
}

/* The client's report on a video stream: frames shown and dropped. */
static const char *
dissect_stream_report(spicemig_body_t *body, proto_tree *tree, const char *name,
                      const spicemig_msg_ctx_t *ctx _U_)
{
    guint32 stream_id = 0, frames = 0, drops = 0;

    spicemig_add_fixed_field(body, tree, hf_stream_report_stream_id, STREAM_REPORT_STREAM_ID_OFFSET, 4,
                             NULL, &stream_id);
    spicemig_add_fixed_field(body, tree, hf_stream_report_unique_id, STREAM_REPORT_UNIQUE_ID_OFFSET, 4, NULL, NULL);
    spicemig_add_fixed_field(body, tree, hf_stream_report_start_frame_mm_time, STREAM_REPORT_START_TIME_OFFSET, 4,
                             NULL, NULL);
    spicemig_add_fixed_field(body, tree, hf_stream_report_end_frame_mm_time, STREAM_REPORT_END_TIME_OFFSET, 4,
                             NULL, NULL);
    spicemig_add_fixed_field(body, tree, hf_stream_report_num_frames, STREAM_REPORT_NUM_FRAMES_OFFSET, 4,
                             NULL, &frames);
    spicemig_add_fixed_field(body, tree, hf_stream_report_num_drops, STREAM_REPORT_NUM_DROPS_OFFSET, 4,
                             NULL, &drops);
    spicemig_add_fixed_field(body, tree, hf_stream_report_last_frame_delay, STREAM_REPORT_LAST_DELAY_OFFSET, 4,
                             NULL, NULL);
    spicemig_add_fixed_field(body, tree, hf_stream_report_audio_delay, STREAM_REPORT_AUDIO_DELAY_OFFSET, 4,
                             NULL, NULL);
    if (!spicemig_check_fixed_part(body, tree, name))
        return "truncated";
    if (frames == 0 && drops == STREAM_REPORT_NOT_SUPPORTED)
        return wmem_strdup_printf(body->pinfo->pool, "stream %u: not supported by the client", stream_id);
    return wmem_strdup_printf(body->pinfo->pool, "stream %u: %u frame%s, %u drop%s", stream_id,
                              frames, plurality(frames, "", "s"), drops, plurality(drops, "", "s"));
}

static const char *
dissect_preferred_compression(spicemig_body_t *body, proto_tree *tree, const char *name,
                              const spicemig_msg_ctx_t *ctx _U_)
{
    guint32 compression;

    if (!spicemig_check_fixed_part(body, tree, name))
        return "truncated";
    proto_tree_add_item_ret_uint(tree, hf_preferred_compression, body->tvb, 0, 1, ENC_NA, &compression);
    return spicemig_val_to_str(body->pinfo->pool, compression, image_compression_vals, "compression %u");
}

static const char *
dissect_gl_draw_done(spicemig_body_t *body _U_, proto_tree *tree _U_, const char *name _U_,
                     const spicemig_msg_ctx_t *ctx _U_)
{
    return NULL;
}

static const char *
dissect_preferred_video_codec(spicemig_body_t *body, proto_tree *tree, const char *name,
                              const spicemig_msg_ctx_t *ctx _U_)
{
    proto_item *count_item;
    guint32 count, shown, i, codec;
    wmem_strbuf_t *codecs;

    if (!spicemig_check_fixed_part(body, tree, name))
        return "truncated";
    count_item = proto_tree_add_item_ret_uint(tree, hf_preferred_video_codec_count, body->tvb, 0, 1, ENC_NA, &count);
    /* At most 255 entries, and only those the body holds. */
    shown = spicemig_check_count(body, count_item, "Video codecs", count, PREFERRED_VIDEO_CODEC_FIXED_LEN, 1);
    codecs = wmem_strbuf_new(body->pinfo->pool, "");
    for (i = 0; i < shown; i++) {
        proto_tree_add_item_ret_uint(tree, hf_preferred_video_codec, body->tvb, PREFERRED_VIDEO_CODEC_FIXED_LEN + i, 1,
                                     ENC_NA, &codec);
        wmem_strbuf_append_printf(codecs, "%s%s", i ? "," : "",
                                  spicemig_val_to_str(body->pinfo->pool, codec, video_codec_vals, "codec %u"));
    }
    return shown ? wmem_strbuf_get_str(codecs) : "no codecs";
}

/* One message spicemig decodes instead of the built-in. */
typedef struct {
    guint16     type;
    gboolean    from_server;
    guint8      channel_type;  /* SPICE_CHANNEL_PORT stands for WebDAV too */
    guint32     fixed_len;
    const char *(*dissect)(spicemig_body_t *body, proto_tree *tree, const char *name,
                           const spicemig_msg_ctx_t *ctx);
} replacement_t;

static const replacement_t replacements[] = {
    { SPICE_MSG_MAIN_INIT,                 TRUE,  SPICE_CHANNEL_MAIN,    MAIN_INIT_LEN,  dissect_main_init },
    { SPICE_MSG_DISPLAY_INVAL_ALL_PIXMAPS, TRUE,  SPICE_CHANNEL_DISPLAY, INVAL_ALL_PIXMAPS_FIXED_LEN,
      dissect_wait_list },
    /* An agent chunk may be empty of fixed fields: its layout is the agent stream's. */
    { SPICE_MSG_MAIN_AGENT_DATA,           TRUE,  SPICE_CHANNEL_MAIN,    0,              dissect_agent_data },
    { SPICE_MSGC_MAIN_AGENT_DATA,          FALSE, SPICE_CHANNEL_MAIN,    0,              dissect_agent_data },
    { SPICE_MSGC_DISPLAY_STREAM_REPORT,    FALSE, SPICE_CHANNEL_DISPLAY, STREAM_REPORT_LEN, dissect_stream_report },
    { SPICE_MSGC_DISPLAY_PREFERRED_COMPRESSION, FALSE, SPICE_CHANNEL_DISPLAY, PREFERRED_COMPRESSION_LEN,
      dissect_preferred_compression },
    { SPICE_MSGC_DISPLAY_GL_DRAW_DONE,     FALSE, SPICE_CHANNEL_DISPLAY, 0,              dissect_gl_draw_done },
    { SPICE_MSGC_DISPLAY_PREFERRED_VIDEO_CODEC_TYPE, FALSE, SPICE_CHANNEL_DISPLAY, PREFERRED_VIDEO_CODEC_FIXED_LEN,
      dissect_preferred_video_codec },
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
    summary = msg->dissect(&body, tree, spicemig_message_name(ctx, type), ctx);
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
        { &hf_stream_report_stream_id,
          { "Stream id", "spicemig.stream_report.stream_id", FT_UINT32, BASE_DEC, NULL, 0x0,
            "STREAM_REPORT: the video stream reported on", HFILL }},
        { &hf_stream_report_unique_id,
          { "Report unique id", "spicemig.stream_report.unique_id", FT_UINT32, BASE_DEC, NULL, 0x0,
            "STREAM_REPORT: the id of the server's STREAM_ACTIVATE_REPORT this answers", HFILL }},
        { &hf_stream_report_start_frame_mm_time,
          { "Start frame time", "spicemig.stream_report.start_frame_mm_time", FT_UINT32,
            BASE_DEC | BASE_UNIT_STRING, &units_milliseconds, 0x0,
            "STREAM_REPORT: multimedia time of the first frame reported on", HFILL }},
        { &hf_stream_report_end_frame_mm_time,
          { "End frame time", "spicemig.stream_report.end_frame_mm_time", FT_UINT32,
            BASE_DEC | BASE_UNIT_STRING, &units_milliseconds, 0x0,
            "STREAM_REPORT: multimedia time of the last frame reported on", HFILL }},
        { &hf_stream_report_num_frames,
          { "Frames", "spicemig.stream_report.num_frames", FT_UINT32, BASE_DEC, NULL, 0x0,
            "STREAM_REPORT: frames that reached the client in the period", HFILL }},
        { &hf_stream_report_num_drops,
          { "Dropped frames", "spicemig.stream_report.num_drops", FT_UINT32, BASE_DEC, NULL, 0x0,
            "STREAM_REPORT: of those, frames the client dropped for arriving late "
            "(4294967295 with 0 frames: the client cannot decode the stream)", HFILL }},
        { &hf_stream_report_last_frame_delay,
          { "Last frame delay", "spicemig.stream_report.last_frame_delay", FT_INT32, BASE_DEC | BASE_UNIT_STRING,
            &units_milliseconds, 0x0, "STREAM_REPORT: end frame time minus the client's multimedia time", HFILL }},
        { &hf_stream_report_audio_delay,
          { "Audio delay", "spicemig.stream_report.audio_delay", FT_UINT32, BASE_DEC | BASE_SPECIAL_VALS,
            VALS(audio_delay_vals), 0x0, "STREAM_REPORT: audio playback latency in milliseconds", HFILL }},
        { &hf_preferred_compression,
          { "Preferred image compression", "spicemig.preferred_compression", FT_UINT8, BASE_DEC,
            VALS(image_compression_vals), 0x0, "PREFERRED_COMPRESSION: SPICE_IMAGE_COMPRESSION_*", HFILL }},
        { &hf_preferred_video_codec_count,
          { "Video codecs", "spicemig.preferred_video_codec.count", FT_UINT8, BASE_DEC, NULL, 0x0,
            "PREFERRED_VIDEO_CODEC_TYPE: how many codecs follow", HFILL }},
        { &hf_preferred_video_codec,
          { "Video codec", "spicemig.preferred_video_codec.codec", FT_UINT8, BASE_DEC, VALS(video_codec_vals), 0x0,
            "PREFERRED_VIDEO_CODEC_TYPE: a codec, most preferred first", HFILL }},
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
