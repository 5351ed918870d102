/* spicemig-agent.c
 * The guest agent protocol (spice-protocol's spice/vd_agent.h), as the main
 * channel carries it and as the main migrate data (MNMD) queues it:
 * - AGENT_DATA, both directions: each message's body is the payload of one
 *   VDI chunk, at most VD_AGENT_MAX_DATA_SIZE (2048) bytes; an agent message
 *   (VDAgentMessage header: protocol, type, opaque, size, then its data) of
 *   more spans several. They are put back together per connection and
 *   direction: the first pass records, per AGENT_DATA message, where in the
 *   current agent message it starts (O(1): a copy of the direction's state),
 *   and every pass decodes the message from that record.
 * - MNMD's queued write data: VDI chunks (VDIChunkHeader: port, size, then
 *   the payload) holding agent messages, partial at either end by nature.
 * All little-endian.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <wireshark.h>
#include <epan/packet.h>
#include <epan/expert.h>
#include <epan/proto_data.h>
#include <epan/tfs.h>
#include <epan/unit_strings.h>
#include <wsutil/str_util.h>

#include "spicemig.h"

#include <spice/vd_agent.h>

#define AGENT_HEADER_LEN  ((guint32)sizeof(VDAgentMessage))  /* 20 */
#define CHUNK_HEADER_LEN  ((guint32)sizeof(VDIChunkHeader))  /* 8 */
#define VD_AGENT_PREFIX   "VD_AGENT_"
/* Clipboard messages start with {selection u8, reserved u8[3]} when the
 * agent announced VD_AGENT_CAP_CLIPBOARD_SELECTION (spice-gtk tests the
 * agent's capabilities, and always announces its own). */
#define CLIPBOARD_SELECTION_LEN 4
/* Monitors listed at most: far above any real configuration (spice-gtk has 16). */
#define MAX_MONITORS_SHOWN 64
/* Clipboard types and capability words listed at most. */
#define MAX_WORDS_SHOWN 64

/* One agent message as the first pass saw it go by, shared by the records
 * of all its pieces (file scope): tells a later pass whether it ever ended. */
typedef struct {
    guint64 seen;        /* bytes of it (header included) in the capture */
    guint32 last_frame;  /* the frame of its last piece seen */
    spicemig_pos_t last_pos;
} agent_msg_info_t;

/* Where one direction's agent stream stands: between messages, or inside
 * one. A message begun before the capture or the migration (the destination
 * takes over the source's state) has an unknown type. */
typedef struct {
    gboolean in_msg;
    gboolean type_known;
    guint32  type;
    guint64  total;        /* header + data */
    guint64  done;         /* bytes of it before this point */
    guint32  begin_frame;  /* 0: begun before the capture or on the source */
    agent_msg_info_t *info;
    /* Clipboard layout, from the agent's ANNOUNCE_CAPABILITIES (else assumed). */
    gboolean caps_known;
    gboolean selection;
    gboolean grab_serial;
} agent_dir_t;

struct spicemig_agent_conn {
    agent_dir_t dir[2];   /* indexed by from_server */
};

/* Per frame (file scope): the state each AGENT_DATA message of the frame
 * started from, for later passes. */
typedef struct agent_record {
    spicemig_pos_t pos;
    gboolean from_server;
    agent_dir_t start;
    agent_msg_info_t *started;  /* the message begun in it and left in progress, if any */
    struct agent_record *next;
} agent_record_t;

static int proto_agent = -1;

static int hf_agent_protocol = -1;
static int hf_agent_type = -1;
static int hf_agent_opaque = -1;
static int hf_agent_size = -1;
static int hf_agent_data = -1;
static int hf_agent_cont_type = -1;
static int hf_agent_cont_from = -1;
static int hf_agent_cont_to = -1;
static int hf_agent_cont_total = -1;
static int hf_agent_begin_frame = -1;
static int hf_agent_caps_request = -1;
static int hf_agent_caps_word = -1;
static int hf_agent_caps_assumed = -1;
static int hf_agent_clipboard_selection = -1;
static int hf_agent_clipboard_serial = -1;
static int hf_agent_clipboard_type = -1;
static int hf_agent_clipboard_data_length = -1;
static int hf_agent_file_xfer_id = -1;
static int hf_agent_file_xfer_metadata = -1;
static int hf_agent_file_xfer_result = -1;
static int hf_agent_file_xfer_data_size = -1;
static int hf_agent_monitors_count = -1;
static int hf_agent_monitors_flags = -1;
static int hf_agent_monitor_height = -1;
static int hf_agent_monitor_width = -1;
static int hf_agent_monitor_depth = -1;
static int hf_agent_monitor_x = -1;
static int hf_agent_monitor_y = -1;
static int hf_agent_reply_type = -1;
static int hf_agent_reply_error = -1;
static int hf_agent_chunk_port = -1;
static int hf_agent_chunk_size = -1;
static int hf_agent_write_note = -1;

static gint ett_agent_msg = -1;
static gint ett_agent_cont = -1;
static gint ett_agent_monitor = -1;
static gint ett_agent_chunk = -1;

static expert_field ei_agent_unfinished = EI_INIT;
static expert_field ei_agent_bad_header = EI_INIT;
static expert_field ei_agent_short = EI_INIT;

const value_string spicemig_agent_type_vals[] = {
    { VD_AGENT_MOUSE_STATE,           "VD_AGENT_MOUSE_STATE" },
    { VD_AGENT_MONITORS_CONFIG,       "VD_AGENT_MONITORS_CONFIG" },
    { VD_AGENT_REPLY,                 "VD_AGENT_REPLY" },
    { VD_AGENT_CLIPBOARD,             "VD_AGENT_CLIPBOARD" },
    { VD_AGENT_DISPLAY_CONFIG,        "VD_AGENT_DISPLAY_CONFIG" },
    { VD_AGENT_ANNOUNCE_CAPABILITIES, "VD_AGENT_ANNOUNCE_CAPABILITIES" },
    { VD_AGENT_CLIPBOARD_GRAB,        "VD_AGENT_CLIPBOARD_GRAB" },
    { VD_AGENT_CLIPBOARD_REQUEST,     "VD_AGENT_CLIPBOARD_REQUEST" },
    { VD_AGENT_CLIPBOARD_RELEASE,     "VD_AGENT_CLIPBOARD_RELEASE" },
    { VD_AGENT_FILE_XFER_START,       "VD_AGENT_FILE_XFER_START" },
    { VD_AGENT_FILE_XFER_STATUS,      "VD_AGENT_FILE_XFER_STATUS" },
    { VD_AGENT_FILE_XFER_DATA,        "VD_AGENT_FILE_XFER_DATA" },
    { VD_AGENT_CLIENT_DISCONNECTED,   "VD_AGENT_CLIENT_DISCONNECTED" },
    { VD_AGENT_MAX_CLIPBOARD,         "VD_AGENT_MAX_CLIPBOARD" },
    { VD_AGENT_AUDIO_VOLUME_SYNC,     "VD_AGENT_AUDIO_VOLUME_SYNC" },
    { VD_AGENT_GRAPHICS_DEVICE_INFO,  "VD_AGENT_GRAPHICS_DEVICE_INFO" },
    { 0, NULL }
};

const value_string spicemig_vdi_port_vals[] = {
    { VDP_CLIENT_PORT, "Client" },
    { VDP_SERVER_PORT, "Server" },
    { 0, NULL }
};

static const value_string clipboard_type_vals[] = {
    { VD_AGENT_CLIPBOARD_NONE,       "NONE" },
    { VD_AGENT_CLIPBOARD_UTF8_TEXT,  "UTF8_TEXT" },
    { VD_AGENT_CLIPBOARD_IMAGE_PNG,  "IMAGE_PNG" },
    { VD_AGENT_CLIPBOARD_IMAGE_BMP,  "IMAGE_BMP" },
    { VD_AGENT_CLIPBOARD_IMAGE_TIFF, "IMAGE_TIFF" },
    { VD_AGENT_CLIPBOARD_IMAGE_JPG,  "IMAGE_JPG" },
    { VD_AGENT_CLIPBOARD_FILE_LIST,  "FILE_LIST" },
    { 0, NULL }
};

static const value_string clipboard_selection_vals[] = {
    { VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD, "CLIPBOARD" },
    { VD_AGENT_CLIPBOARD_SELECTION_PRIMARY,   "PRIMARY" },
    { VD_AGENT_CLIPBOARD_SELECTION_SECONDARY, "SECONDARY" },
    { 0, NULL }
};

static const value_string file_xfer_status_vals[] = {
    { VD_AGENT_FILE_XFER_STATUS_CAN_SEND_DATA,         "CAN_SEND_DATA" },
    { VD_AGENT_FILE_XFER_STATUS_CANCELLED,             "CANCELLED" },
    { VD_AGENT_FILE_XFER_STATUS_ERROR,                 "ERROR" },
    { VD_AGENT_FILE_XFER_STATUS_SUCCESS,               "SUCCESS" },
    { VD_AGENT_FILE_XFER_STATUS_NOT_ENOUGH_SPACE,      "NOT_ENOUGH_SPACE" },
    { VD_AGENT_FILE_XFER_STATUS_SESSION_LOCKED,        "SESSION_LOCKED" },
    { VD_AGENT_FILE_XFER_STATUS_VDAGENT_NOT_CONNECTED, "VDAGENT_NOT_CONNECTED" },
    { VD_AGENT_FILE_XFER_STATUS_DISABLED,              "DISABLED" },
    { 0, NULL }
};

static const value_string reply_error_vals[] = {
    { VD_AGENT_SUCCESS, "SUCCESS" },
    { VD_AGENT_ERROR,   "ERROR" },
    { 0, NULL }
};

/* "CLIPBOARD_GRAB" for VD_AGENT_CLIPBOARD_GRAB: the Info column's short name. */
static const char *
short_type_name(wmem_allocator_t *scope, guint32 type)
{
    const char *name = try_val_to_str(type, spicemig_agent_type_vals);

    if (!name)
        return wmem_strdup_printf(scope, "agent message type %u", type);
    return name + strlen(VD_AGENT_PREFIX);
}

/* The data of one agent message as far as a piece holds it: `avail` bytes
 * at `offset` of its `size`. Adds a field of `len` bytes at `field` when the
 * piece holds it. */
typedef struct {
    tvbuff_t    *tvb;
    packet_info *pinfo;
    proto_tree  *tree;
    int          offset;
    guint32      avail;  /* bytes of the data in this piece */
    guint32      size;   /* the data's declared size */
} agent_data_t;

static gboolean
has(const agent_data_t *d, guint32 field, guint32 len)
{
    return field <= d->avail && len <= d->avail - field;
}

/* Whether the piece holds the field (not whether an item was made: without
 * a tree, or with the field unreferenced, there may be none). */
static gboolean
add_field(agent_data_t *d, int hf, guint32 field, guint32 len, guint32 *value)
{
    if (!has(d, field, len))
        return FALSE;
    if (value)
        proto_tree_add_item_ret_uint(d->tree, hf, d->tvb, d->offset + (int)field, (int)len, ENC_LITTLE_ENDIAN,
                                     value);
    else
        proto_tree_add_item(d->tree, hf, d->tvb, d->offset + (int)field, (int)len, ENC_LITTLE_ENDIAN);
    return TRUE;
}

/* A whole message (its data all here) shorter than its fixed fields. */
static gboolean
check_fixed(agent_data_t *d, guint32 fixed, const char *name)
{
    if (d->size >= fixed)
        return TRUE;
    proto_tree_add_expert_format(d->tree, d->pinfo, &ei_agent_short, d->tvb, d->offset, (int)d->avail,
                                 "%s of %u data bytes is shorter than its %u-byte fixed part",
                                 name, d->size, fixed);
    return FALSE;
}

/* The bytes of the data from `field` that this piece holds, as `hf`. */
static void
add_rest(agent_data_t *d, int hf, guint32 field)
{
    if (field < d->avail)
        proto_tree_add_item(d->tree, hf, d->tvb, d->offset + (int)field, (int)(d->avail - field), ENC_NA);
}

/* The clipboard messages' selection prefix (and a GRAB's serial): returns
 * where their own fields start. */
static guint32
clipboard_prefix(agent_data_t *d, const agent_dir_t *dir, gboolean grab)
{
    guint32 field = 0;

    if (!dir->caps_known)
        proto_item_set_generated(proto_tree_add_boolean(d->tree, hf_agent_caps_assumed, d->tvb, d->offset, 0, TRUE));
    if (dir->selection) {
        add_field(d, hf_agent_clipboard_selection, 0, 1, NULL);
        field += CLIPBOARD_SELECTION_LEN;
    }
    if (grab && dir->grab_serial) {
        add_field(d, hf_agent_clipboard_serial, field, 4, NULL);
        field += 4;
    }
    return field;
}

static const char *
dissect_clipboard_grab(agent_data_t *d, const agent_dir_t *dir)
{
    guint32 field = clipboard_prefix(d, dir, TRUE), type = 0, n = 0;
    wmem_strbuf_t *types = wmem_strbuf_new(d->pinfo->pool, "");

    if (d->avail == d->size && !check_fixed(d, field, "CLIPBOARD_GRAB"))
        return NULL;
    /* Bounded by the piece's bytes and by MAX_WORDS_SHOWN. */
    while (has(d, field, 4) && n < MAX_WORDS_SHOWN) {
        add_field(d, hf_agent_clipboard_type, field, 4, &type);
        wmem_strbuf_append_printf(types, "%s%s", n ? "," : "",
                                  spicemig_val_to_str(d->pinfo->pool, type, clipboard_type_vals, "type %u"));
        field += 4;
        n++;
    }
    return n ? wmem_strbuf_get_str(types) : "no types";
}

static const char *
dissect_clipboard(agent_data_t *d, const agent_dir_t *dir, gboolean request)
{
    guint32 field = clipboard_prefix(d, dir, FALSE), type = 0;
    const char *name = request ? "CLIPBOARD_REQUEST" : "CLIPBOARD";

    if (d->avail == d->size && !check_fixed(d, field + 4, name))
        return NULL;
    if (!add_field(d, hf_agent_clipboard_type, field, 4, &type))
        return NULL;
    field += 4;
    if (request)
        return spicemig_val_to_str(d->pinfo->pool, type, clipboard_type_vals, "type %u");
    proto_item_set_generated(proto_tree_add_uint(d->tree, hf_agent_clipboard_data_length, d->tvb,
                                                 d->offset + (int)field, 0, d->size - field));
    add_rest(d, hf_agent_data, field);
    return wmem_strdup_printf(d->pinfo->pool, "%s, %u bytes",
                              spicemig_val_to_str(d->pinfo->pool, type, clipboard_type_vals, "type %u"),
                              d->size - field);
}

static const char *
dissect_file_xfer(agent_data_t *d, guint32 type)
{
    guint32 id = 0, result = 0;
    guint64 size = 0;

    if (d->avail == d->size
        && !check_fixed(d, type == VD_AGENT_FILE_XFER_DATA ? 12 : type == VD_AGENT_FILE_XFER_STATUS ? 8 : 4,
                        short_type_name(d->pinfo->pool, type)))
        return NULL;
    if (!add_field(d, hf_agent_file_xfer_id, 0, 4, &id))
        return NULL;
    switch (type) {
    case VD_AGENT_FILE_XFER_START:
        /* The metadata: a GKeyFile text ("[vdagent-file-xfer]\nname=...\nsize=...\n"), NUL-terminated. */
        if (d->avail > 4)
            proto_tree_add_item(d->tree, hf_agent_file_xfer_metadata, d->tvb, d->offset + 4, (int)(d->avail - 4),
                                ENC_UTF_8);
        return wmem_strdup_printf(d->pinfo->pool, "id %u", id);
    case VD_AGENT_FILE_XFER_STATUS:
        if (!add_field(d, hf_agent_file_xfer_result, 4, 4, &result))
            return wmem_strdup_printf(d->pinfo->pool, "id %u", id);
        add_rest(d, hf_agent_data, 8);
        return wmem_strdup_printf(d->pinfo->pool, "id %u %s", id,
                                  spicemig_val_to_str(d->pinfo->pool, result, file_xfer_status_vals, "result %u"));
    default:  /* VD_AGENT_FILE_XFER_DATA */
        if (has(d, 4, 8))
            proto_tree_add_item_ret_uint64(d->tree, hf_agent_file_xfer_data_size, d->tvb, d->offset + 4, 8,
                                           ENC_LITTLE_ENDIAN, &size);
        add_rest(d, hf_agent_data, 12);
        return wmem_strdup_printf(d->pinfo->pool, "id %u, %" PRIu64 " bytes", id, size);
    }
}

static const char *
dissect_monitors_config(agent_data_t *d)
{
    guint32 count = 0, i, field = 8, width, height;
    wmem_strbuf_t *sizes = wmem_strbuf_new(d->pinfo->pool, "");

    if (d->avail == d->size && !check_fixed(d, 8, "MONITORS_CONFIG"))
        return NULL;
    if (!add_field(d, hf_agent_monitors_count, 0, 4, &count))
        return NULL;
    add_field(d, hf_agent_monitors_flags, 4, 4, NULL);
    /* Bounded by the piece's bytes and by MAX_MONITORS_SHOWN. */
    for (i = 0; i < count && i < MAX_MONITORS_SHOWN && has(d, field, sizeof(VDAgentMonConfig)); i++) {
        proto_tree *saved = d->tree;

        width = tvb_get_letohl(d->tvb, d->offset + (int)field + (int)offsetof(VDAgentMonConfig, width));
        height = tvb_get_letohl(d->tvb, d->offset + (int)field + (int)offsetof(VDAgentMonConfig, height));
        d->tree = proto_tree_add_subtree_format(saved, d->tvb, d->offset + (int)field, sizeof(VDAgentMonConfig),
                                                ett_agent_monitor, NULL, "Monitor %u: %ux%u", i, width, height);
        add_field(d, hf_agent_monitor_height, field + offsetof(VDAgentMonConfig, height), 4, NULL);
        add_field(d, hf_agent_monitor_width, field + offsetof(VDAgentMonConfig, width), 4, NULL);
        add_field(d, hf_agent_monitor_depth, field + offsetof(VDAgentMonConfig, depth), 4, NULL);
        add_field(d, hf_agent_monitor_x, field + offsetof(VDAgentMonConfig, x), 4, NULL);
        add_field(d, hf_agent_monitor_y, field + offsetof(VDAgentMonConfig, y), 4, NULL);
        d->tree = saved;
        wmem_strbuf_append_printf(sizes, "%s%ux%u", i ? ", " : "", width, height);
        field += sizeof(VDAgentMonConfig);
    }
    if (d->avail == d->size && i < count && i < MAX_MONITORS_SHOWN)
        proto_tree_add_expert_format(d->tree, d->pinfo, &ei_agent_short, d->tvb, d->offset, (int)d->avail,
                                     "MONITORS_CONFIG of %u data bytes holds %u of its %u monitors",
                                     d->size, i, count);
    return wmem_strdup_printf(d->pinfo->pool, "%u monitor%s%s%s", count, plurality(count, "", "s"),
                              i ? ": " : "", wmem_strbuf_get_str(sizes));
}

static const char *
dissect_announce_caps(agent_data_t *d, agent_dir_t *dir, gboolean from_agent, gboolean record)
{
    guint32 request = 0, word = 0, field = 4, n = 0;

    if (d->avail == d->size && !check_fixed(d, 4, "ANNOUNCE_CAPABILITIES"))
        return NULL;
    if (add_field(d, hf_agent_caps_request, 0, 4, NULL))
        request = tvb_get_letohl(d->tvb, d->offset);
    /* Bounded by the piece's bytes and by MAX_WORDS_SHOWN. */
    while (has(d, field, 4) && n < MAX_WORDS_SHOWN) {
        add_field(d, hf_agent_caps_word, field, 4, n == 0 ? &word : NULL);
        field += 4;
        n++;
    }
    /* The agent's capabilities decide the clipboard layout both ways. */
    if (record && from_agent && n > 0) {
        dir->caps_known = TRUE;
        dir->selection = (word & (1u << VD_AGENT_CAP_CLIPBOARD_SELECTION)) != 0;
        dir->grab_serial = (word & (1u << VD_AGENT_CAP_CLIPBOARD_GRAB_SERIAL)) != 0;
    }
    return wmem_strdup_printf(d->pinfo->pool, "%scaps 0x%08x", request ? "request, " : "", word);
}

/* The fields of one agent message's data, as far as this piece holds them;
 * returns the Info detail or NULL. */
static const char *
dissect_agent_fields(agent_data_t *d, guint32 type, agent_dir_t *dir, gboolean from_agent, gboolean record)
{
    guint32 value = 0;

    switch (type) {
    case VD_AGENT_CLIPBOARD_GRAB:
        return dissect_clipboard_grab(d, dir);
    case VD_AGENT_CLIPBOARD_REQUEST:
        return dissect_clipboard(d, dir, TRUE);
    case VD_AGENT_CLIPBOARD:
        return dissect_clipboard(d, dir, FALSE);
    case VD_AGENT_CLIPBOARD_RELEASE:
        clipboard_prefix(d, dir, FALSE);
        return NULL;
    case VD_AGENT_FILE_XFER_START:
    case VD_AGENT_FILE_XFER_STATUS:
    case VD_AGENT_FILE_XFER_DATA:
        return dissect_file_xfer(d, type);
    case VD_AGENT_MONITORS_CONFIG:
        return dissect_monitors_config(d);
    case VD_AGENT_ANNOUNCE_CAPABILITIES:
        return dissect_announce_caps(d, dir, from_agent, record);
    case VD_AGENT_REPLY:
        if (d->avail == d->size && !check_fixed(d, 8, "REPLY"))
            return NULL;
        if (!add_field(d, hf_agent_reply_type, 0, 4, &value))
            return NULL;
        add_field(d, hf_agent_reply_error, 4, 4, NULL);
        return wmem_strdup_printf(d->pinfo->pool, "to %s", short_type_name(d->pinfo->pool, value));
    default:
        add_rest(d, hf_agent_data, 0);
        return NULL;
    }
}

/* Whether `len` bytes at `offset` start like a VDAgentMessage header. */
static gboolean
plausible_header(tvbuff_t *tvb, int offset, guint32 len)
{
    guint32 type;

    if (len < AGENT_HEADER_LEN)
        return FALSE;
    type = tvb_get_letohl(tvb, offset + (int)offsetof(VDAgentMessage, type));
    return tvb_get_letohl(tvb, offset + (int)offsetof(VDAgentMessage, protocol)) == VD_AGENT_PROTOCOL
           && type >= VD_AGENT_MOUSE_STATE && type < VD_AGENT_END_MESSAGE;
}

/* How a run of agent bytes (a chunk's payload) is being decoded. */
typedef struct {
    packet_info   *pinfo;
    proto_tree    *tree;
    gboolean       record;       /* first pass, connection state: record what is learnt */
    gboolean       from_agent;
    gboolean       in_queue;     /* MNMD write data: partial messages are normal */
    spicemig_pos_t pos;          /* AGENT_DATA: the SPICE message's position */
    agent_msg_info_t *started;   /* AGENT_DATA: the message begun here and left in progress */
    wmem_strbuf_t *info;         /* the Info summary */
} agent_run_t;

static void
append_info(agent_run_t *run, const char *text)
{
    if (wmem_strbuf_get_len(run->info) > 0)
        wmem_strbuf_append(run->info, "; ");
    wmem_strbuf_append(run->info, text);
}

static const char *
dir_type_name(wmem_allocator_t *scope, const agent_dir_t *dir)
{
    return dir->type_known ? short_type_name(scope, dir->type) : "begun before the migration";
}

/* A piece of the message `dir` is inside: `len` bytes at `offset`. */
static guint32
dissect_continuation(tvbuff_t *tvb, int offset, guint32 len, agent_dir_t *dir, agent_run_t *run)
{
    guint64 left = dir->total - dir->done;
    guint32 piece = left < len ? (guint32)left : len;
    const char *name = dir_type_name(run->pinfo->pool, dir);
    proto_tree *tree;
    proto_item *item;
    gboolean ends = dir->done + piece == dir->total;
    const char *text;

    /* A message begun on the source: counted from the migration, whose
     * migrate data says how many of its bytes were left. */
    if (dir->type_known)
        text = wmem_strdup_printf(run->pinfo->pool, "continuation of %s, bytes %" PRIu64 "-%" PRIu64 " of %" PRIu64,
                                  name, dir->done, dir->done + piece - 1, dir->total);
    else
        text = wmem_strdup_printf(run->pinfo->pool, "continuation of a message begun before the migration, "
                                  "bytes %" PRIu64 "-%" PRIu64 " of the %" PRIu64 " left", dir->done,
                                  dir->done + piece - 1, dir->total);
    tree = proto_tree_add_subtree_format(run->tree, tvb, offset, (int)piece, ett_agent_cont, &item,
                                         "Agent message %s%s", text, ends ? " (its end)" : "");
    if (dir->type_known)
        proto_item_set_generated(proto_tree_add_uint(tree, hf_agent_cont_type, tvb, offset, 0, dir->type));
    proto_item_set_generated(proto_tree_add_uint64(tree, hf_agent_cont_from, tvb, offset, 0, dir->done));
    proto_item_set_generated(proto_tree_add_uint64(tree, hf_agent_cont_to, tvb, offset, 0, dir->done + piece - 1));
    proto_item_set_generated(proto_tree_add_uint64(tree, hf_agent_cont_total, tvb, offset, 0, dir->total));
    if (dir->begin_frame)
        proto_item_set_generated(proto_tree_add_uint(tree, hf_agent_begin_frame, tvb, offset, 0, dir->begin_frame));
    proto_tree_add_item(tree, hf_agent_data, tvb, offset, (int)piece, ENC_NA);
    append_info(run, text);
    if (run->in_queue && !ends)
        proto_item_set_generated(proto_tree_add_string(tree, hf_agent_write_note, tvb, offset, 0,
                                 wmem_strdup_printf(run->pinfo->pool, "the rest (%" PRIu64 " bytes) was still to "
                                                    "come from the client", dir->total - dir->done - piece)));
    dir->done += piece;
    if (dir->info) {
        if (run->record) {
            dir->info->seen += piece;
            dir->info->last_frame = run->pinfo->num;
            dir->info->last_pos = run->pos;
        } else if (!ends && PINFO_FD_VISITED(run->pinfo) && dir->info->last_frame == run->pinfo->num
                   && dir->info->last_pos == run->pos) {
            expert_add_info_format(run->pinfo, item, &ei_agent_unfinished,
                                   "Agent message %s not finished: %" PRIu64 " of %" PRIu64 " bytes in the capture "
                                   "(the capture or this connection ends before the rest)",
                                   name, dir->info->seen, dir->total);
        }
    }
    if (ends)
        dir->in_msg = FALSE;
    return piece;
}

/* A message that starts at `offset` (`len` bytes of the run from there). */
static guint32
dissect_message_start(tvbuff_t *tvb, int offset, guint32 len, agent_dir_t *dir, agent_run_t *run)
{
    agent_data_t d;
    proto_tree *tree;
    proto_item *item, *type_item;
    guint32 protocol, type, size, piece;
    guint64 total;
    const char *detail, *name;

    if (len < AGENT_HEADER_LEN) {
        item = proto_tree_add_item(run->tree, hf_agent_data, tvb, offset, (int)len, ENC_NA);
        if (run->in_queue) {
            proto_item_append_text(item, " (partial message header: %u of %u bytes)", len, AGENT_HEADER_LEN);
            append_info(run, "partial message header");
        } else {
            expert_add_info_format(run->pinfo, item, &ei_agent_short,
                                   "%u bytes: too short for a %u-byte agent message header", len, AGENT_HEADER_LEN);
            append_info(run, "short agent data");
        }
        return len;
    }
    protocol = tvb_get_letohl(tvb, offset + (int)offsetof(VDAgentMessage, protocol));
    type = tvb_get_letohl(tvb, offset + (int)offsetof(VDAgentMessage, type));
    size = tvb_get_letohl(tvb, offset + (int)offsetof(VDAgentMessage, size));
    total = (guint64)AGENT_HEADER_LEN + size;
    piece = total < len ? (guint32)total : len;
    name = short_type_name(run->pinfo->pool, type);

    tree = proto_tree_add_subtree_format(run->tree, tvb, offset, (int)piece, ett_agent_msg, &item,
                                         "Agent message %s, %u data bytes", name, size);
    if (piece < total)
        proto_item_append_text(item, " (bytes 0-%u of %" PRIu64 " here)", piece - 1, total);
    proto_tree_add_item(tree, hf_agent_protocol, tvb, offset + (int)offsetof(VDAgentMessage, protocol), 4,
                        ENC_LITTLE_ENDIAN);
    type_item = proto_tree_add_item(tree, hf_agent_type, tvb, offset + (int)offsetof(VDAgentMessage, type), 4,
                                    ENC_LITTLE_ENDIAN);
    proto_tree_add_item(tree, hf_agent_opaque, tvb, offset + (int)offsetof(VDAgentMessage, opaque), 8,
                        ENC_LITTLE_ENDIAN);
    proto_tree_add_item(tree, hf_agent_size, tvb, offset + (int)offsetof(VDAgentMessage, size), 4,
                        ENC_LITTLE_ENDIAN);
    if (protocol != VD_AGENT_PROTOCOL || !try_val_to_str(type, spicemig_agent_type_vals)) {
        /* Not an agent message: the rest of the run is not framed either. */
        expert_add_info_format(run->pinfo, type_item, &ei_agent_bad_header,
                               "Not an agent message header: protocol %u (VD_AGENT_PROTOCOL is %u), type %u",
                               protocol, VD_AGENT_PROTOCOL, type);
        proto_tree_add_item(tree, hf_agent_data, tvb, offset + (int)AGENT_HEADER_LEN, (int)(len - AGENT_HEADER_LEN),
                            ENC_NA);
        append_info(run, "not an agent message");
        return len;
    }

    d.tvb = tvb;
    d.pinfo = run->pinfo;
    d.tree = tree;
    d.offset = offset + (int)AGENT_HEADER_LEN;
    d.avail = piece - AGENT_HEADER_LEN;
    d.size = size;
    detail = dissect_agent_fields(&d, type, dir, run->from_agent, run->record);
    if (piece < total)
        append_info(run, wmem_strdup_printf(run->pinfo->pool, "%s%s%s, bytes 0-%u of %" PRIu64, name,
                                            detail ? " " : "", detail ? detail : "", piece - 1, total));
    else
        append_info(run, wmem_strdup_printf(run->pinfo->pool, "%s%s%s", name, detail ? " " : "",
                                            detail ? detail : ""));

    if (piece < total) {
        dir->in_msg = TRUE;
        dir->type_known = TRUE;
        dir->type = type;
        dir->total = total;
        dir->done = piece;
        dir->begin_frame = run->in_queue ? 0 : run->pinfo->num;
        dir->info = NULL;
        if (run->in_queue) {
            proto_item_set_generated(proto_tree_add_string(tree, hf_agent_write_note, tvb, offset, 0,
                                 wmem_strdup_printf(run->pinfo->pool, "the rest (%" PRIu64 " bytes) was still to "
                                                    "come from the client", total - piece)));
        } else if (run->record) {
            dir->info = wmem_new0(wmem_file_scope(), agent_msg_info_t);
            dir->info->seen = piece;
            dir->info->last_frame = run->pinfo->num;
            dir->info->last_pos = run->pos;
            run->started = dir->info;
        } else if (run->started) {
            dir->info = run->started;
            if (PINFO_FD_VISITED(run->pinfo) && dir->info->last_frame == run->pinfo->num
                && dir->info->last_pos == run->pos)
                expert_add_info_format(run->pinfo, item, &ei_agent_unfinished,
                                       "Agent message %s not finished: %" PRIu64 " of %" PRIu64 " bytes in the "
                                       "capture (the capture or this connection ends before the rest)",
                                       name, dir->info->seen, total);
        }
    }
    return piece;
}

/* The `len` bytes at `offset` of one direction's agent stream: pieces of
 * the current message, then whole or partial messages. Each turn takes at
 * least one byte (a message start at least its header, or the rest). */
static void
dissect_agent_run(tvbuff_t *tvb, int offset, guint32 len, agent_dir_t *dir, agent_run_t *run)
{
    while (len > 0) {
        guint32 piece = dir->in_msg ? dissect_continuation(tvb, offset, len, dir, run)
                                    : dissect_message_start(tvb, offset, len, dir, run);

        offset += (int)piece;
        len -= piece;
    }
}

static agent_record_t *
find_record(packet_info *pinfo, spicemig_pos_t pos, gboolean from_server)
{
    agent_record_t *rec = (agent_record_t *)p_get_proto_data(wmem_file_scope(), pinfo, proto_agent,
                                                             SPICEMIG_KEY_AGENT_RECORDS);

    for (; rec; rec = rec->next) {
        if (rec->pos == pos && rec->from_server == from_server)
            return rec;
    }
    return NULL;
}

/* A fresh direction: clipboard layout as today's spice-gtk and spice-vdagent
 * use it, until the agent's capabilities say otherwise. */
static void
init_dir(agent_dir_t *dir)
{
    memset(dir, 0, sizeof(*dir));
    dir->selection = TRUE;
    dir->grab_serial = TRUE;
}

static spicemig_agent_conn_t *
agent_conn(const spicemig_msg_ctx_t *ctx)
{
    if (!ctx->agent)
        return NULL;
    if (!*ctx->agent) {
        *ctx->agent = wmem_new0(wmem_file_scope(), spicemig_agent_conn_t);
        init_dir(&(*ctx->agent)->dir[0]);
        init_dir(&(*ctx->agent)->dir[1]);
    }
    return *ctx->agent;
}

/* The clipboard layout is the agent's: both directions read it from the
 * server's (agent→client) direction. */
static void
copy_caps(agent_dir_t *to, const agent_dir_t *from)
{
    to->caps_known = from->caps_known;
    to->selection = from->selection;
    to->grab_serial = from->grab_serial;
}

const char *
spicemig_dissect_agent_data(spicemig_body_t *body, proto_tree *tree, const spicemig_msg_ctx_t *ctx)
{
    packet_info *pinfo = body->pinfo;
    spicemig_agent_conn_t *conn = agent_conn(ctx);
    agent_record_t *rec = NULL;
    agent_dir_t work;
    agent_run_t run;

    if (body->len == 0)
        return NULL;
    body->accounted_end = body->len;

    run.pinfo = pinfo;
    run.tree = tree;
    run.from_agent = ctx->from_server;
    run.in_queue = FALSE;
    run.pos = ctx->pos;
    run.started = NULL;
    run.info = wmem_strbuf_new(pinfo->pool, "");
    if (!PINFO_FD_VISITED(pinfo) && conn)
        rec = find_record(pinfo, ctx->pos, ctx->from_server);
    if (!PINFO_FD_VISITED(pinfo) && conn && !rec) {
        agent_dir_t *dir = &conn->dir[ctx->from_server ? 1 : 0];

        copy_caps(dir, &conn->dir[1]);
        rec = wmem_new(wmem_file_scope(), agent_record_t);
        rec->pos = ctx->pos;
        rec->from_server = ctx->from_server;
        rec->start = *dir;
        rec->next = (agent_record_t *)p_get_proto_data(wmem_file_scope(), pinfo, proto_agent,
                                                       SPICEMIG_KEY_AGENT_RECORDS);
        p_add_proto_data(wmem_file_scope(), pinfo, proto_agent, SPICEMIG_KEY_AGENT_RECORDS, rec);
        run.record = TRUE;
        dissect_agent_run(body->tvb, 0, body->len, dir, &run);
        rec->started = run.started;
        /* The capabilities the agent announced hold for both directions. */
        if (ctx->from_server)
            copy_caps(&conn->dir[0], dir);
        return wmem_strbuf_get_str(run.info);
    }
    if (!rec)
        rec = find_record(pinfo, ctx->pos, ctx->from_server);
    if (rec) {
        work = rec->start;
        run.started = rec->started;
    } else {
        /* Not seen on the first pass (or no connection state): read it as a message start. */
        init_dir(&work);
    }
    run.record = FALSE;
    dissect_agent_run(body->tvb, 0, body->len, &work, &run);
    return wmem_strbuf_get_str(run.info);
}

void
spicemig_agent_migrated(const spicemig_msg_ctx_t *ctx, packet_info *pinfo, guint32 to_client_left,
                        guint32 to_agent_left)
{
    spicemig_agent_conn_t *conn;
    guint i;

    if (PINFO_FD_VISITED(pinfo) || !(conn = agent_conn(ctx)))
        return;
    for (i = 0; i < 2; i++) {
        agent_dir_t *dir = &conn->dir[i];
        guint32 left = i == 1 ? to_client_left : to_agent_left;

        if (dir->in_msg || left == 0)
            continue;
        dir->in_msg = TRUE;
        dir->type_known = FALSE;
        dir->type = 0;
        dir->total = left;
        dir->done = 0;
        dir->begin_frame = 0;
        dir->info = wmem_new0(wmem_file_scope(), agent_msg_info_t);
    }
}

const char *
spicemig_dissect_agent_write_data(tvbuff_t *tvb, int offset, guint32 len, packet_info *pinfo, proto_tree *tree,
                                  guint32 *chunks)
{
    agent_dir_t dirs[2];   /* client port, server port */
    /* Per port: still in the chunks that continue a message whose start the
     * source had written already (every chunk until one starts a header). */
    gboolean leading[2] = { TRUE, TRUE };
    agent_run_t run;
    proto_item *item;

    *chunks = 0;
    init_dir(&dirs[0]);
    init_dir(&dirs[1]);
    run.pinfo = pinfo;
    run.record = FALSE;
    run.from_agent = FALSE;
    run.in_queue = TRUE;
    run.pos = 0;
    run.started = NULL;
    run.info = wmem_strbuf_new(pinfo->pool, "");
    /* Each turn takes a chunk header (8 bytes) at least. */
    while (len > 0) {
        guint32 port, size, payload;
        proto_tree *chunk_tree;
        agent_dir_t *dir;
        gboolean *port_leading;

        if (len < CHUNK_HEADER_LEN) {
            item = proto_tree_add_item(tree, hf_agent_data, tvb, offset, (int)len, ENC_NA);
            proto_item_append_text(item, " (partial chunk header: %u of %u bytes)", len, CHUNK_HEADER_LEN);
            break;
        }
        port = tvb_get_letohl(tvb, offset + (int)offsetof(VDIChunkHeader, port));
        size = tvb_get_letohl(tvb, offset + (int)offsetof(VDIChunkHeader, size));
        if (port != VDP_CLIENT_PORT && port != VDP_SERVER_PORT) {
            item = proto_tree_add_item(tree, hf_agent_data, tvb, offset, (int)len, ENC_NA);
            proto_item_append_text(item, " (%u bytes not at a chunk header: port %u is neither client nor server; "
                                   "the source may have written part of its first chunk to the agent)", len, port);
            break;
        }
        payload = MIN(size, len - CHUNK_HEADER_LEN);
        chunk_tree = proto_tree_add_subtree_format(tree, tvb, offset, (int)(CHUNK_HEADER_LEN + payload),
                                                   ett_agent_chunk, &item, "VDI chunk: %s port, %u bytes",
                                                   port == VDP_CLIENT_PORT ? "client" : "server", size);
        proto_tree_add_item(chunk_tree, hf_agent_chunk_port, tvb, offset + (int)offsetof(VDIChunkHeader, port), 4,
                            ENC_LITTLE_ENDIAN);
        proto_tree_add_item(chunk_tree, hf_agent_chunk_size, tvb, offset + (int)offsetof(VDIChunkHeader, size), 4,
                            ENC_LITTLE_ENDIAN);
        if (payload < size)
            proto_item_append_text(item, " (partial chunk: %u of them in the queue)", payload);
        (*chunks)++;
        dir = &dirs[port == VDP_CLIENT_PORT ? 0 : 1];
        port_leading = &leading[port == VDP_CLIENT_PORT ? 0 : 1];
        run.tree = chunk_tree;
        if (*port_leading) {
            /* A message starts a chunk of its own: the queue's first chunks of
             * a port may all continue one whose start was written already. */
            *port_leading = payload == 0 || !plausible_header(tvb, offset + (int)CHUNK_HEADER_LEN, payload);
            if (*port_leading && payload > 0) {
                proto_item_set_generated(proto_tree_add_string(chunk_tree, hf_agent_write_note, tvb,
                                         offset + (int)CHUNK_HEADER_LEN, 0,
                                         "continues an agent message whose start the source had already written "
                                         "to the agent"));
                proto_tree_add_item(chunk_tree, hf_agent_data, tvb, offset + (int)CHUNK_HEADER_LEN, (int)payload,
                                    ENC_NA);
                append_info(&run, "continuation");
                offset += (int)(CHUNK_HEADER_LEN + payload);
                len -= CHUNK_HEADER_LEN + payload;
                continue;
            }
        }
        dissect_agent_run(tvb, offset + (int)CHUNK_HEADER_LEN, payload, dir, &run);
        offset += (int)(CHUNK_HEADER_LEN + payload);
        len -= CHUNK_HEADER_LEN + payload;
    }
    return wmem_strbuf_get_str(run.info);
}

void
spicemig_register_agent(int proto, expert_module_t *expert)
{
    static hf_register_info hf[] = {
        { &hf_agent_protocol,
          { "Agent protocol", "spicemig.agent.protocol", FT_UINT32, BASE_DEC, NULL, 0x0,
            "VDAgentMessage protocol (VD_AGENT_PROTOCOL is 1)", HFILL }},
        { &hf_agent_type,
          { "Agent message type", "spicemig.agent.type", FT_UINT32, BASE_DEC, VALS(spicemig_agent_type_vals), 0x0,
            "VDAgentMessage type", HFILL }},
        { &hf_agent_opaque,
          { "Agent message opaque", "spicemig.agent.opaque", FT_UINT64, BASE_HEX, NULL, 0x0,
            "VDAgentMessage opaque word", HFILL }},
        { &hf_agent_size,
          { "Agent message size", "spicemig.agent.size", FT_UINT32, BASE_DEC | BASE_UNIT_STRING, &units_byte_bytes,
            0x0, "VDAgentMessage size: its data, after the 20-byte header", HFILL }},
        { &hf_agent_data,
          { "Agent data", "spicemig.agent.data", FT_BYTES, BASE_NONE, NULL, 0x0,
            "Agent message bytes in this chunk", HFILL }},
        { &hf_agent_cont_type,
          { "Continued agent message type", "spicemig.agent.continuation.type", FT_UINT32, BASE_DEC,
            VALS(spicemig_agent_type_vals), 0x0, "The type of the agent message this chunk continues", HFILL }},
        { &hf_agent_cont_from,
          { "Continuation from byte", "spicemig.agent.continuation.from", FT_UINT64, BASE_DEC, NULL, 0x0,
            "First byte of the agent message (header included, from 0) in this chunk", HFILL }},
        { &hf_agent_cont_to,
          { "Continuation to byte", "spicemig.agent.continuation.to", FT_UINT64, BASE_DEC, NULL, 0x0,
            "Last byte of the agent message (header included, from 0) in this chunk", HFILL }},
        { &hf_agent_cont_total,
          { "Continued agent message length", "spicemig.agent.continuation.total", FT_UINT64,
            BASE_DEC | BASE_UNIT_STRING, &units_byte_bytes, 0x0,
            "Bytes of the whole agent message, its 20-byte header included", HFILL }},
        { &hf_agent_begin_frame,
          { "Agent message begins in", "spicemig.agent.begin_frame", FT_FRAMENUM, BASE_NONE, NULL, 0x0,
            "The frame with the first chunk of the agent message this chunk continues", HFILL }},
        { &hf_agent_caps_request,
          { "Capabilities request", "spicemig.agent.caps.request", FT_BOOLEAN, 32, TFS(&tfs_yes_no), 0x0,
            "ANNOUNCE_CAPABILITIES: whether the sender asks for the peer's", HFILL }},
        { &hf_agent_caps_word,
          { "Capabilities word", "spicemig.agent.caps.word", FT_UINT32, BASE_HEX, NULL, 0x0,
            "ANNOUNCE_CAPABILITIES: a word of VD_AGENT_CAP_* bits", HFILL }},
        { &hf_agent_caps_assumed,
          { "Clipboard layout assumed", "spicemig.agent.caps.assumed", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
            "No agent ANNOUNCE_CAPABILITIES seen on this connection: the selection prefix and grab serial of "
            "today's spice-gtk and spice-vdagent are assumed", HFILL }},
        { &hf_agent_clipboard_selection,
          { "Clipboard selection", "spicemig.agent.clipboard.selection", FT_UINT8, BASE_DEC,
            VALS(clipboard_selection_vals), 0x0, "VD_AGENT_CAP_CLIPBOARD_SELECTION: which clipboard", HFILL }},
        { &hf_agent_clipboard_serial,
          { "Clipboard grab serial", "spicemig.agent.clipboard.serial", FT_UINT32, BASE_DEC, NULL, 0x0,
            "VD_AGENT_CAP_CLIPBOARD_GRAB_SERIAL: the grab's serial", HFILL }},
        { &hf_agent_clipboard_type,
          { "Clipboard type", "spicemig.agent.clipboard.type", FT_UINT32, BASE_DEC, VALS(clipboard_type_vals), 0x0,
            "VD_AGENT_CLIPBOARD_* data type (GRAB lists several)", HFILL }},
        { &hf_agent_clipboard_data_length,
          { "Clipboard data length", "spicemig.agent.clipboard.data_length", FT_UINT32, BASE_DEC | BASE_UNIT_STRING,
            &units_byte_bytes, 0x0, "CLIPBOARD: bytes of clipboard data in the whole message", HFILL }},
        { &hf_agent_file_xfer_id,
          { "File transfer id", "spicemig.agent.file_xfer.id", FT_UINT32, BASE_DEC, NULL, 0x0,
            "FILE_XFER_*: the transfer's id", HFILL }},
        { &hf_agent_file_xfer_metadata,
          { "File transfer metadata", "spicemig.agent.file_xfer.metadata", FT_STRINGZPAD, BASE_NONE, NULL, 0x0,
            "FILE_XFER_START: key file text with the file's name and size", HFILL }},
        { &hf_agent_file_xfer_result,
          { "File transfer status", "spicemig.agent.file_xfer.result", FT_UINT32, BASE_DEC,
            VALS(file_xfer_status_vals), 0x0, "FILE_XFER_STATUS: VD_AGENT_FILE_XFER_STATUS_*", HFILL }},
        { &hf_agent_file_xfer_data_size,
          { "File transfer data size", "spicemig.agent.file_xfer.data_size", FT_UINT64, BASE_DEC | BASE_UNIT_STRING,
            &units_byte_bytes, 0x0, "FILE_XFER_DATA: bytes of file data in this message", HFILL }},
        { &hf_agent_monitors_count,
          { "Monitors", "spicemig.agent.monitors.count", FT_UINT32, BASE_DEC, NULL, 0x0,
            "MONITORS_CONFIG: num_of_monitors", HFILL }},
        { &hf_agent_monitors_flags,
          { "Monitors config flags", "spicemig.agent.monitors.flags", FT_UINT32, BASE_HEX, NULL, 0x0,
            "MONITORS_CONFIG: VD_AGENT_CONFIG_MONITORS_FLAG_* (1 use position, 2 physical size)", HFILL }},
        { &hf_agent_monitor_height,
          { "Monitor height", "spicemig.agent.monitor.height", FT_UINT32, BASE_DEC, NULL, 0x0,
            "MONITORS_CONFIG: a monitor's height in pixels", HFILL }},
        { &hf_agent_monitor_width,
          { "Monitor width", "spicemig.agent.monitor.width", FT_UINT32, BASE_DEC, NULL, 0x0,
            "MONITORS_CONFIG: a monitor's width in pixels", HFILL }},
        { &hf_agent_monitor_depth,
          { "Monitor depth", "spicemig.agent.monitor.depth", FT_UINT32, BASE_DEC, NULL, 0x0,
            "MONITORS_CONFIG: a monitor's bits per pixel", HFILL }},
        { &hf_agent_monitor_x,
          { "Monitor x", "spicemig.agent.monitor.x", FT_INT32, BASE_DEC, NULL, 0x0,
            "MONITORS_CONFIG: a monitor's left edge", HFILL }},
        { &hf_agent_monitor_y,
          { "Monitor y", "spicemig.agent.monitor.y", FT_INT32, BASE_DEC, NULL, 0x0,
            "MONITORS_CONFIG: a monitor's top edge", HFILL }},
        { &hf_agent_reply_type,
          { "Reply to", "spicemig.agent.reply.type", FT_UINT32, BASE_DEC, VALS(spicemig_agent_type_vals), 0x0,
            "REPLY: the type of the message answered", HFILL }},
        { &hf_agent_reply_error,
          { "Reply result", "spicemig.agent.reply.error", FT_UINT32, BASE_DEC, VALS(reply_error_vals), 0x0,
            "REPLY: VD_AGENT_SUCCESS or VD_AGENT_ERROR", HFILL }},
        { &hf_agent_chunk_port,
          { "Queued chunk port", "spicemig.agent.chunk.port", FT_UINT32, BASE_DEC, VALS(spicemig_vdi_port_vals), 0x0,
            "VDIChunkHeader port: client (from the client) or server (spice-server's own)", HFILL }},
        { &hf_agent_chunk_size,
          { "Queued chunk size", "spicemig.agent.chunk.size", FT_UINT32, BASE_DEC | BASE_UNIT_STRING, &units_byte_bytes,
            0x0, "VDIChunkHeader size: the payload after the 8-byte header", HFILL }},
        { &hf_agent_write_note,
          { "Partial message", "spicemig.agent.queue_note", FT_STRING, BASE_NONE, NULL, 0x0,
            "MNMD write data: an agent message only partly in the queue (normal at either end), as spicemig "
            "infers it", HFILL }},
    };
    static gint *ett[] = { &ett_agent_msg, &ett_agent_cont, &ett_agent_monitor, &ett_agent_chunk };
    static ei_register_info ei[] = {
        { &ei_agent_unfinished,
          { "spicemig.agent.unfinished", PI_SEQUENCE, PI_NOTE,
            "Agent message not finished in the capture", EXPFILL }},
        { &ei_agent_bad_header,
          { "spicemig.agent.bad_header", PI_PROTOCOL, PI_WARN,
            "Not an agent message header", EXPFILL }},
        { &ei_agent_short,
          { "spicemig.agent.short", PI_MALFORMED, PI_WARN,
            "Agent message shorter than its fields", EXPFILL }},
    };

    proto_agent = proto;
    proto_register_field_array(proto, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_register_field_array(expert, ei, array_length(ei));
}
