/* spicemig-migrate-data.c
 * The bodies of SPICE_MSG_MIGRATE_DATA and SPICE_MSGC_MIGRATE_DATA: the
 * state a source spice-server hands, through the client, to the destination
 * server of a seamless migration. One body kind per channel type, told apart
 * by the magic that starts the body (layouts: spicemig-layouts.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <wireshark.h>
#include <epan/packet.h>
#include <epan/expert.h>
#include <epan/prefs.h>
#include <epan/tfs.h>
#include <epan/unit_strings.h>
#include <wsutil/pint.h>
#include <wsutil/str_util.h>

#include "spicemig.h"
#include "spicemig-layouts.h"

/* Offset and size of a member of a body structure, as the two arguments
 * spicemig_add_fixed_field() takes. */
#define BODY_FIELD(type, member) \
    SPICEMIG_MD_OFFSET(type, member), SPICEMIG_MD_SIZEOF(type, member)

/* The same for a member of the CharDevice base at `base` in the body. */
#define CHAR_DEVICE_FIELD(base, member) \
    (base) + (guint32)offsetof(spicemig_md_char_device_t, member), \
    SPICEMIG_MD_SIZEOF(spicemig_md_char_device_t, member)

/* The same for a member of the VDAgentMessage header. */
#define AGENT_MSG_FIELD(member) \
    (guint32)offsetof(VDAgentMessage, member), SPICEMIG_MD_SIZEOF(VDAgentMessage, member)

#define RIGHTWARDS_ARROW "\xe2\x86\x92"  /* U+2192, as in the hops "source→client" */

/* How to read the display surfaces list, whose layout nothing in the body
 * states: the destination server picks it by its own JPEG setting. */
enum {
    SURFACES_LAYOUT_INFER,
    SURFACES_LAYOUT_LOSSLESS,
    SURFACES_LAYOUT_LOSSY
};

static const enum_val_t surfaces_layout_vals[] = {
    { "infer",    "Infer",    SURFACES_LAYOUT_INFER },
    { "lossless", "Lossless", SURFACES_LAYOUT_LOSSLESS },
    { "lossy",    "Lossy",    SURFACES_LAYOUT_LOSSY },
    { NULL, NULL, 0 }
};

static gint surfaces_layout_pref = SURFACES_LAYOUT_INFER;

static int hf_magic = -1;
static int hf_version = -1;
static int hf_display_message_serial = -1;
static int hf_display_low_bandwidth = -1;
static int hf_display_pixmap_cache_id = -1;
static int hf_display_pixmap_cache_size = -1;
static int hf_display_pixmap_cache_freezer = -1;
static int hf_display_pixmap_cache_client = -1;
static int hf_display_glz_dict_id = -1;
static int hf_display_glz_dict_size = -1;
static int hf_display_glz_dict_max_encoders = -1;
static int hf_display_glz_dict_last_image_id = -1;
static int hf_display_surfaces_ptr = -1;
static int hf_display_surfaces_count = -1;
static int hf_display_surfaces_lossy = -1;
static int hf_display_surface_id = -1;
static int hf_display_surface_lossy_rect_left = -1;
static int hf_display_surface_lossy_rect_top = -1;
static int hf_display_surface_lossy_rect_right = -1;
static int hf_display_surface_lossy_rect_bottom = -1;
static int hf_chardev_version = -1;
static int hf_chardev_connected = -1;
static int hf_chardev_num_client_tokens = -1;
static int hf_chardev_num_send_tokens = -1;
static int hf_chardev_write_size = -1;
static int hf_chardev_write_num_client_tokens = -1;
static int hf_chardev_write_data_ptr = -1;
static int hf_chardev_write_data = -1;
static int hf_inputs_motion_count = -1;
static int hf_smartcard_reader_added = -1;
static int hf_smartcard_read_size = -1;
static int hf_smartcard_read_data_ptr = -1;
static int hf_smartcard_read_data = -1;
static int hf_main_client_agent_started = -1;
static int hf_main_a2c_chunk_header_size = -1;
static int hf_main_a2c_chunk_header_port = -1;
static int hf_main_a2c_chunk_header_size_field = -1;
static int hf_main_a2c_msg_header_done = -1;
static int hf_main_a2c_msg_header_partial_len = -1;
static int hf_main_a2c_msg_header_ptr = -1;
static int hf_main_a2c_msg_remaining = -1;
static int hf_main_a2c_msg_filter_result = -1;
static int hf_main_c2a_msg_remaining = -1;
static int hf_main_c2a_msg_filter_result = -1;
static int hf_main_partial_msg_protocol = -1;
static int hf_main_partial_msg_type = -1;
static int hf_main_partial_msg_opaque = -1;
static int hf_main_partial_msg_size = -1;
static int hf_main_partial_msg_data = -1;

static gint ett_pixmap_cache = -1;
static gint ett_glz_dict = -1;
static gint ett_surfaces = -1;
static gint ett_surfaces_layout = -1;
static gint ett_surface = -1;
static gint ett_char_device = -1;
static gint ett_agent2client = -1;
static gint ett_client2agent = -1;
static gint ett_partial_msg = -1;
static gint ett_write_data = -1;

static expert_field ei_unknown_magic = EI_INIT;
static expert_field ei_unsupported_version = EI_INIT;
static expert_field ei_magic_channel_mismatch = EI_INIT;
static expert_field ei_chardev_unsupported_version = EI_INIT;
static expert_field ei_surface_id_out_of_range = EI_INIT;
static expert_field ei_surfaces_layout_ambiguous = EI_INIT;
static expert_field ei_main_chunk_header_size_too_large = EI_INIT;
static expert_field ei_main_partial_header_too_long = EI_INIT;

static const unit_name_string units_pixel_pixels = { " pixel", " pixels" };

/* Char device tokens: spice-server gives a device without flow control
 * ~0 tokens (BASE_SPECIAL_VALS: any other value is a count). */
static const value_string chardev_tokens_vals[] = {
    { G_MAXUINT32, "unlimited" },
    { 0, NULL }
};

static const value_string agent_msg_filter_vals[] = {
    { SPICEMIG_AGENT_MSG_FILTER_OK,              "OK" },
    { SPICEMIG_AGENT_MSG_FILTER_DISCARD,         "Discard" },
    { SPICEMIG_AGENT_MSG_FILTER_PROTO_ERROR,     "Protocol error" },
    { SPICEMIG_AGENT_MSG_FILTER_MONITORS_CONFIG, "Monitors config" },
    { 0, NULL }
};

/* A subtree for a structure of the fixed part, over as much of it as the
 * body holds; none when a short body ends before it. */
static proto_tree *
add_struct_subtree(proto_tree *tree, const spicemig_body_t *body, guint32 offset, guint32 size,
                   gint ett, const char *title)
{
    if (offset >= body->len)
        return NULL;
    return proto_tree_add_subtree(tree, body->tvb, offset, MIN(size, body->len - offset), ett, NULL, title);
}

/* The bytes a pointer + length pair of the body points to, as field `hf`
 * (nothing for an empty region). Returns whether the region may be read. */
static gboolean
add_pointed_bytes(spicemig_body_t *body, proto_tree *tree, int hf, proto_item *ptr_item,
                  const char *ptr_name, guint32 ptr, guint32 len)
{
    if (!spicemig_check_pointer(body, ptr_item, ptr_name, ptr, len))
        return FALSE;
    if (len > 0)
        proto_tree_add_item(tree, hf, body->tvb, ptr, len, ENC_NA);
    return TRUE;
}

/* What a CharDevice base says for the Info column. */
typedef struct {
    guint32 connected;
    guint32 write_size;
    guint32 write_data_ptr;
    proto_item *write_data_item;  /* the write data, when the body holds it */
} char_device_state_t;

static const char *
char_device_summary(packet_info *pinfo, const char_device_state_t *state)
{
    if (!state->connected)
        return "disconnected";
    return wmem_strdup_printf(pinfo->pool, "connected, write %u byte%s",
                              state->write_size, plurality(state->write_size, "", "s"));
}

/* The CharDevice base that MNMD, SCMD and SVMD start with, at `base`. */
static void
dissect_char_device(spicemig_body_t *body, proto_tree *tree, guint32 base, const char *title,
                    char_device_state_t *state)
{
    proto_tree *dev_tree;
    proto_item *item;
    guint32 version;

    dev_tree = add_struct_subtree(tree, body, base, sizeof(spicemig_md_char_device_t), ett_char_device, title);
    if (spicemig_add_fixed_field(body, dev_tree, hf_chardev_version, CHAR_DEVICE_FIELD(base, version),
                                 &item, &version)
        && version > SPICEMIG_MIGRATE_DATA_CHAR_DEVICE_VERSION) {
        expert_add_info_format(body->pinfo, item, &ei_chardev_unsupported_version,
                               "Char device version %u is newer than version %u, the newest spice-server 0.15.1 accepts",
                               version, SPICEMIG_MIGRATE_DATA_CHAR_DEVICE_VERSION);
        spicemig_note_problem(body->pinfo, SPICEMIG_DST_REJECTS,
                              wmem_strdup_printf(body->pinfo->pool, "char device version %u unsupported",
                                                 version));
    }
    spicemig_add_fixed_field(body, dev_tree, hf_chardev_connected, CHAR_DEVICE_FIELD(base, connected),
                             NULL, &state->connected);
    spicemig_add_fixed_field(body, dev_tree, hf_chardev_num_client_tokens,
                             CHAR_DEVICE_FIELD(base, num_client_tokens), NULL, NULL);
    spicemig_add_fixed_field(body, dev_tree, hf_chardev_num_send_tokens,
                             CHAR_DEVICE_FIELD(base, num_send_tokens), NULL, NULL);
    spicemig_add_fixed_field(body, dev_tree, hf_chardev_write_size, CHAR_DEVICE_FIELD(base, write_size),
                             NULL, &state->write_size);
    spicemig_add_fixed_field(body, dev_tree, hf_chardev_write_num_client_tokens,
                             CHAR_DEVICE_FIELD(base, write_num_client_tokens), NULL, NULL);
    if (spicemig_add_fixed_field(body, dev_tree, hf_chardev_write_data_ptr,
                                 CHAR_DEVICE_FIELD(base, write_data_ptr), &item, &state->write_data_ptr)
        && spicemig_check_pointer(body, item, "Write data offset", state->write_data_ptr, state->write_size)
        && state->write_size > 0)
        state->write_data_item = proto_tree_add_item(dev_tree, hf_chardev_write_data, body->tvb,
                                                     state->write_data_ptr, state->write_size, ENC_NA);
}

/* The start of a VDAgentMessage header the source had read from the agent
 * when it stopped: as many of its fields as the partial length covers. */
static void
dissect_partial_agent_msg(spicemig_body_t *body, proto_tree *tree, proto_item *ptr_item,
                          guint32 ptr, guint32 partial_len)
{
    spicemig_body_t msg;
    proto_tree *msg_tree;

    if (!spicemig_check_pointer(body, ptr_item, "Partial header offset", ptr, partial_len) || partial_len == 0)
        return;

    msg_tree = proto_tree_add_subtree_format(tree, body->tvb, ptr, partial_len, ett_partial_msg, NULL,
                                             "Partial VDAgentMessage header: %u bytes (a whole one has %u)",
                                             partial_len, (guint)sizeof(VDAgentMessage));
    /* A header that is partial by nature: the fields it does not reach are
     * simply not there yet. */
    spicemig_body_init(&msg, tvb_new_subset_length(body->tvb, ptr, partial_len), body->pinfo,
                       sizeof(VDAgentMessage));
    spicemig_add_fixed_field(&msg, msg_tree, hf_main_partial_msg_protocol, AGENT_MSG_FIELD(protocol), NULL, NULL);
    spicemig_add_fixed_field(&msg, msg_tree, hf_main_partial_msg_type, AGENT_MSG_FIELD(type), NULL, NULL);
    spicemig_add_fixed_field(&msg, msg_tree, hf_main_partial_msg_opaque, AGENT_MSG_FIELD(opaque), NULL, NULL);
    spicemig_add_fixed_field(&msg, msg_tree, hf_main_partial_msg_size, AGENT_MSG_FIELD(size), NULL, NULL);
    proto_tree_add_item(msg_tree, hf_main_partial_msg_data, body->tvb, ptr, partial_len, ENC_NA);
}

/* MNMD: the main channel's guest agent state. */
static const char *
dissect_main(spicemig_body_t *body, proto_tree *tree, const spicemig_msg_ctx_t *ctx)
{
    char_device_state_t agent = { 0, 0, 0, NULL };
    proto_tree *a2c_tree, *c2a_tree;
    proto_item *item, *port_item = NULL, *size_item = NULL;
    guint32 chunk_header_size = 0, partial_len = 0, msg_header_ptr, a2c_left = 0, c2a_left = 0, chunks = 0;
    gboolean header_size_known;
    wmem_strbuf_t *info;

    dissect_char_device(body, tree, SPICEMIG_MD_OFFSET(spicemig_md_main_t, agent_base), "Agent char device", &agent);
    spicemig_add_fixed_field(body, tree, hf_main_client_agent_started,
                             BODY_FIELD(spicemig_md_main_t, client_agent_started), NULL, NULL);

    a2c_tree = add_struct_subtree(tree, body, BODY_FIELD(spicemig_md_main_t, agent2client), ett_agent2client,
                                  "Agent to client");
    header_size_known = spicemig_add_fixed_field(body, a2c_tree, hf_main_a2c_chunk_header_size,
                                                 BODY_FIELD(spicemig_md_main_t, agent2client.chunk_header_size),
                                                 &item, &chunk_header_size);
    if (header_size_known && chunk_header_size > sizeof(VDIChunkHeader)) {
        expert_add_info_format(body->pinfo, item, &ei_main_chunk_header_size_too_large,
                               "Chunk header bytes read %u is larger than the %u-byte VDIChunkHeader",
                               chunk_header_size, (guint)sizeof(VDIChunkHeader));
        spicemig_note_problem(body->pinfo, SPICEMIG_DST_UNSAFE,
                              wmem_strdup_printf(body->pinfo->pool, "chunk header bytes read %u too large",
                                                 chunk_header_size));
    }
    spicemig_add_fixed_field(body, a2c_tree, hf_main_a2c_chunk_header_port,
                             BODY_FIELD(spicemig_md_main_t, agent2client.chunk_header.port), &port_item, NULL);
    spicemig_add_fixed_field(body, a2c_tree, hf_main_a2c_chunk_header_size_field,
                             BODY_FIELD(spicemig_md_main_t, agent2client.chunk_header.size), &size_item, NULL);
    /* With no byte of the next chunk header read, spice-server writes its
     * last header as it was: a stale one, no size of anything in flight. */
    if (header_size_known && chunk_header_size == 0) {
        if (port_item)
            proto_item_append_text(port_item, " (stale: no header byte read)");
        if (size_item)
            proto_item_append_text(size_item, " (stale: no header byte read)");
    } else if (header_size_known && chunk_header_size < sizeof(VDIChunkHeader)) {
        if (port_item)
            proto_item_append_text(port_item, " (partly read: %u of %u header bytes)", chunk_header_size,
                                   (guint)sizeof(VDIChunkHeader));
        if (size_item)
            proto_item_append_text(size_item, " (partly read: %u of %u header bytes)", chunk_header_size,
                                   (guint)sizeof(VDIChunkHeader));
    } else if (header_size_known && chunk_header_size == sizeof(VDIChunkHeader) && size_item) {
        /* A whole header read: spice-server writes what is left of the chunk
         * (message_receive_len), not the size the agent gave it. */
        proto_item_append_text(size_item, " (still to read from the agent)");
    }
    spicemig_add_fixed_field(body, a2c_tree, hf_main_a2c_msg_header_done,
                             BODY_FIELD(spicemig_md_main_t, agent2client.msg_header_done), NULL, NULL);
    if (spicemig_add_fixed_field(body, a2c_tree, hf_main_a2c_msg_header_partial_len,
                                 BODY_FIELD(spicemig_md_main_t, agent2client.msg_header_partial_len),
                                 &item, &partial_len)
        && partial_len >= sizeof(VDAgentMessage)) {
        expert_add_info_format(body->pinfo, item, &ei_main_partial_header_too_long,
                               "Partial header length %u is not shorter than the %u-byte VDAgentMessage header",
                               partial_len, (guint)sizeof(VDAgentMessage));
        spicemig_note_problem(body->pinfo, SPICEMIG_DST_UNSAFE,
                              wmem_strdup_printf(body->pinfo->pool, "partial header length %u too long",
                                                 partial_len));
    }
    /* spice-server 0.15.1 reads this pointer 2 bytes off (relative to a mini
     * header instead of the migrate-data header); its writer's convention,
     * an offset from the body start like every other pointer, is the one
     * that matches the bytes. */
    if (spicemig_add_fixed_field(body, a2c_tree, hf_main_a2c_msg_header_ptr,
                                 BODY_FIELD(spicemig_md_main_t, agent2client.msg_header_ptr),
                                 &item, &msg_header_ptr))
        dissect_partial_agent_msg(body, a2c_tree, item, msg_header_ptr, partial_len);
    spicemig_add_fixed_field(body, a2c_tree, hf_main_a2c_msg_remaining,
                             BODY_FIELD(spicemig_md_main_t, agent2client.msg_remaining), NULL, &a2c_left);
    spicemig_add_fixed_field(body, a2c_tree, hf_main_a2c_msg_filter_result,
                             BODY_FIELD(spicemig_md_main_t, agent2client.msg_filter_result), NULL, NULL);

    c2a_tree = add_struct_subtree(tree, body, BODY_FIELD(spicemig_md_main_t, client2agent), ett_client2agent,
                                  "Client to agent");
    spicemig_add_fixed_field(body, c2a_tree, hf_main_c2a_msg_remaining,
                             BODY_FIELD(spicemig_md_main_t, client2agent.msg_remaining), NULL, &c2a_left);
    spicemig_add_fixed_field(body, c2a_tree, hf_main_c2a_msg_filter_result,
                             BODY_FIELD(spicemig_md_main_t, client2agent.msg_filter_result), NULL, NULL);

    /* The queued write data: VDI chunks for the agent. */
    if (agent.write_data_item)
        spicemig_dissect_agent_write_data(body->tvb, (int)agent.write_data_ptr, agent.write_size, body->pinfo,
                                          proto_item_add_subtree(agent.write_data_item, ett_write_data), &chunks);
    /* The destination goes on with the agent messages in progress. */
    if (!ctx->from_server)
        spicemig_agent_migrated(ctx, body->pinfo, a2c_left, c2a_left);

    if (!agent.connected)
        return "agent disconnected";
    info = wmem_strbuf_new(body->pinfo->pool, "agent connected");
    if (a2c_left == 0 && c2a_left == 0 && agent.write_size == 0 && partial_len == 0) {
        wmem_strbuf_append(info, ", no agent data in flight");
        return wmem_strbuf_get_str(info);
    }
    if (a2c_left > 0)
        wmem_strbuf_append_printf(info, ", agent" RIGHTWARDS_ARROW "client %u byte%s left", a2c_left, plurality(a2c_left, "", "s"));
    if (c2a_left > 0)
        wmem_strbuf_append_printf(info, ", client" RIGHTWARDS_ARROW "agent %u byte%s left", c2a_left, plurality(c2a_left, "", "s"));
    if (agent.write_size > 0) {
        wmem_strbuf_append_printf(info, ", write queue %u byte%s", agent.write_size,
                                  plurality(agent.write_size, "", "s"));
        if (chunks > 0)
            wmem_strbuf_append_printf(info, " in %u chunk%s", chunks, plurality(chunks, "", "s"));
    }
    if (partial_len > 0)
        wmem_strbuf_append_printf(info, ", partial agent message header %u bytes", partial_len);
    return wmem_strbuf_get_str(info);
}

/* A line of spicemig's reasoning under a field: generated text, so that it
 * does not read as a field of the body. */
static void
add_explanation(proto_tree *tree, tvbuff_t *tvb, const char *text)
{
    proto_item *item;

    proto_tree_add_subtree(tree, tvb, 0, 0, ett_surfaces_layout, &item, text);
    proto_item_set_generated(item);
}

/* How one surfaces-list layout fits the `room` the body leaves for it. */
static void
add_layout_line(spicemig_body_t *body, proto_tree *tree, const char *layout, guint32 count,
                guint32 entry_size, guint64 list_len, guint32 room)
{
    if (!tree)
        return;
    add_explanation(tree, body->tvb,
                    wmem_strdup_printf(body->pinfo->pool, "%s: %u x %u bytes, %s", layout, count, entry_size,
                                       list_len == room ? "ends exactly at the end of the body"
                                       : list_len < room ? "ends before the end of the body"
                                       : "runs past the end of the body"));
}

/* Whether the surfaces list at `list_offset` holds lossy entries: the
 * preference says so, or the layout that ends exactly at the end of the
 * body. Adds the generated spicemig.display.surfaces.lossy saying why. */
static gboolean
surfaces_are_lossy(spicemig_body_t *body, proto_tree *tree, guint32 list_offset, guint32 count)
{
    /* The caller checked that num_surfaces lies inside the body. */
    guint32 room = body->len - list_offset - (guint32)sizeof(spicemig_md_surfaces_t);
    guint64 lossless_len = (guint64)count * sizeof(spicemig_md_surface_lossless_t);
    guint64 lossy_len = (guint64)count * sizeof(spicemig_md_surface_lossy_t);
    const char *surfaces = plurality(count, "surface", "surfaces");
    const char *why;
    gboolean lossy = FALSE;
    gboolean ambiguous = FALSE;
    proto_item *item;
    proto_tree *layout_tree;

    /* Both layouts are named every time: which one applies is the
     * destination server's JPEG setting, which the body does not carry. */
    if (surfaces_layout_pref != SURFACES_LAYOUT_INFER) {
        lossy = surfaces_layout_pref == SURFACES_LAYOUT_LOSSY;
        why = "forced by the spicemig.surfaces_layout preference";
    } else if (count == 0) {
        ambiguous = TRUE;
        why = "ambiguous: an empty list looks the same in both layouts; read as lossless";
    } else if (room == lossless_len || room == lossy_len) {
        lossy = room == lossy_len;
        why = wmem_strdup_printf(body->pinfo->pool, "inferred: %u %s x %u bytes runs exactly to the end of the body",
                                 count, surfaces, (guint)(lossy ? sizeof(spicemig_md_surface_lossy_t)
                                                                : sizeof(spicemig_md_surface_lossless_t)));
    } else if (lossless_len < room) {
        ambiguous = TRUE;
        why = wmem_strdup_printf(body->pinfo->pool,
                                 "ambiguous: neither %u %s x %u nor x %u bytes ends at the end of the body; read as lossless, which fits",
                                 count, surfaces, (guint)sizeof(spicemig_md_surface_lossless_t),
                                 (guint)sizeof(spicemig_md_surface_lossy_t));
    } else {
        /* Too long either way: a truncation, not a layout question. */
        why = "the list runs past the end of the body in both layouts; read as lossless";
    }

    item = proto_tree_add_boolean_format_value(tree, hf_display_surfaces_lossy, NULL, 0, 0, lossy,
                                               "%s (%s)", tfs_get_string(lossy, &tfs_yes_no), why);
    proto_item_set_generated(item);
    /* Both layouts, and what decides between them, whatever was chosen. */
    layout_tree = proto_item_add_subtree(item, ett_surfaces_layout);
    add_layout_line(body, layout_tree, "Lossless layout {id}", count,
                    sizeof(spicemig_md_surface_lossless_t), lossless_len, room);
    add_layout_line(body, layout_tree, "Lossy layout {id, lossy_rect}", count,
                    sizeof(spicemig_md_surface_lossy_t), lossy_len, room);
    add_explanation(layout_tree, body->tvb,
                    "The destination server's JPEG setting decides: lossy when it may send JPEG "
                    "(jpeg-wan-compression)");
    add_explanation(layout_tree, body->tvb, "The spicemig.surfaces_layout preference forces one layout");
    if (ambiguous)
        expert_add_info_format(body->pinfo, item, &ei_surfaces_layout_ambiguous,
                               "Cannot tell lossless from lossy surfaces (%s); set the Surfaces list layout preference to choose",
                               why);
    return lossy;
}

/* One entry of the surfaces list, whose bytes the caller checked: one line
 * per surface. A lossless entry is its id alone; a lossy one is a subtree
 * "Surface N, lossy rect (...)" over the id and the rect's edges. */
static void
dissect_surface(spicemig_body_t *body, proto_tree *tree, guint32 offset, gboolean lossy)
{
    guint32 rect = offset + (guint32)offsetof(spicemig_md_surface_lossy_t, lossy_rect);
    proto_tree *surface_tree = tree;
    proto_item *surface_item = NULL, *id_item;
    guint32 id;
    gint32 left, top, right, bottom;

    if (lossy)
        surface_tree = proto_tree_add_subtree(tree, body->tvb, offset, sizeof(spicemig_md_surface_lossy_t),
                                              ett_surface, &surface_item, "Surface");
    /* Both layouts start with the id. */
    id_item = proto_tree_add_item_ret_uint(surface_tree, hf_display_surface_id, body->tvb,
                                           offset + (guint32)offsetof(spicemig_md_surface_lossless_t, id), 4,
                                           ENC_LITTLE_ENDIAN, &id);
    if (id >= SPICEMIG_NUM_SURFACES) {
        expert_add_info_format(body->pinfo, id_item, &ei_surface_id_out_of_range,
                               "Surface id %u is out of range: the destination server has surfaces 0 to %u",
                               id, SPICEMIG_NUM_SURFACES - 1);
        spicemig_note_problem(body->pinfo, SPICEMIG_DST_UNSAFE,
                              wmem_strdup_printf(body->pinfo->pool, "surface id %u out of range", id));
    }
    if (!lossy)
        return;

    proto_item_append_text(surface_item, " %u", id);
    proto_tree_add_item_ret_int(surface_tree, hf_display_surface_lossy_rect_left, body->tvb,
                                rect + (guint32)offsetof(spicemig_md_rect_t, left), 4, ENC_LITTLE_ENDIAN, &left);
    proto_tree_add_item_ret_int(surface_tree, hf_display_surface_lossy_rect_top, body->tvb,
                                rect + (guint32)offsetof(spicemig_md_rect_t, top), 4, ENC_LITTLE_ENDIAN, &top);
    proto_tree_add_item_ret_int(surface_tree, hf_display_surface_lossy_rect_right, body->tvb,
                                rect + (guint32)offsetof(spicemig_md_rect_t, right), 4, ENC_LITTLE_ENDIAN, &right);
    proto_tree_add_item_ret_int(surface_tree, hf_display_surface_lossy_rect_bottom, body->tvb,
                                rect + (guint32)offsetof(spicemig_md_rect_t, bottom), 4, ENC_LITTLE_ENDIAN, &bottom);
    proto_item_append_text(surface_item, ", lossy rect (%d, %d)-(%d, %d)", left, top, right, bottom);
}

/* The list of surfaces the client has, at surfaces_at_client_ptr. Returns
 * its Info column summary. */
static const char *
dissect_surfaces(spicemig_body_t *body, proto_tree *tree, proto_item *ptr_item, guint32 ptr)
{
    proto_tree *list_tree;
    proto_item *list_item, *count_item;
    guint32 count, present, entry_size, entries_offset, i;
    gboolean lossy;

    if (!spicemig_check_pointer(body, ptr_item, "Surfaces list offset", ptr, sizeof(spicemig_md_surfaces_t)))
        return "surfaces unreadable";

    list_tree = proto_tree_add_subtree(tree, body->tvb, ptr, sizeof(spicemig_md_surfaces_t), ett_surfaces,
                                       &list_item, "Surfaces at client");
    count_item = proto_tree_add_item_ret_uint(list_tree, hf_display_surfaces_count, body->tvb,
                                              ptr + (guint32)offsetof(spicemig_md_surfaces_t, num_surfaces), 4,
                                              ENC_LITTLE_ENDIAN, &count);
    lossy = surfaces_are_lossy(body, list_tree, ptr, count);
    entry_size = lossy ? sizeof(spicemig_md_surface_lossy_t) : sizeof(spicemig_md_surface_lossless_t);
    entries_offset = ptr + (guint32)sizeof(spicemig_md_surfaces_t);

    present = spicemig_check_count(body, count_item, "Number of surfaces", count, entries_offset, entry_size);
    for (i = 0; i < present; i++)
        dissect_surface(body, list_tree, entries_offset + i * entry_size, lossy);
    proto_item_set_len(list_item, (gint)(sizeof(spicemig_md_surfaces_t) + present * entry_size));

    return wmem_strdup_printf(body->pinfo->pool, "%u %s%s", count, lossy ? "lossy " : "",
                              plurality(count, "surface", "surfaces"));
}

/* DCMD: the display channel's caches, GLZ dictionary and surfaces. */
static const char *
dissect_display(spicemig_body_t *body, proto_tree *tree, const spicemig_msg_ctx_t *ctx _U_)
{
    proto_tree *cache_tree, *glz_tree;
    proto_item *item;
    guint32 glz_window = 0, surfaces_ptr, i;

    spicemig_add_fixed_field(body, tree, hf_display_message_serial,
                             BODY_FIELD(spicemig_md_display_t, message_serial), NULL, NULL);
    spicemig_add_fixed_field(body, tree, hf_display_low_bandwidth,
                             BODY_FIELD(spicemig_md_display_t, low_bandwidth_setting), NULL, NULL);

    cache_tree = add_struct_subtree(tree, body, SPICEMIG_MD_OFFSET(spicemig_md_display_t, pixmap_cache_id),
                                    offsetof(spicemig_md_display_t, glz_dict_id)
                                        - offsetof(spicemig_md_display_t, pixmap_cache_id),
                                    ett_pixmap_cache, "Pixmap cache");
    spicemig_add_fixed_field(body, cache_tree, hf_display_pixmap_cache_id,
                             BODY_FIELD(spicemig_md_display_t, pixmap_cache_id), NULL, NULL);
    spicemig_add_fixed_field(body, cache_tree, hf_display_pixmap_cache_size,
                             BODY_FIELD(spicemig_md_display_t, pixmap_cache_size), NULL, NULL);
    spicemig_add_fixed_field(body, cache_tree, hf_display_pixmap_cache_freezer,
                             BODY_FIELD(spicemig_md_display_t, pixmap_cache_freezer), NULL, NULL);
    for (i = 0; i < SPICEMIG_MIGRATE_DATA_DISPLAY_MAX_CACHE_CLIENTS; i++) {
        if (spicemig_add_fixed_field(body, cache_tree, hf_display_pixmap_cache_client,
                                     SPICEMIG_MD_OFFSET(spicemig_md_display_t, pixmap_cache_clients)
                                         + i * SPICEMIG_MD_SIZEOF(spicemig_md_display_t, pixmap_cache_clients[0]),
                                     SPICEMIG_MD_SIZEOF(spicemig_md_display_t, pixmap_cache_clients[0]),
                                     &item, NULL))
            proto_item_append_text(item, " (client slot %u)", i);
    }

    glz_tree = add_struct_subtree(tree, body, SPICEMIG_MD_OFFSET(spicemig_md_display_t, glz_dict_id),
                                  offsetof(spicemig_md_display_t, surfaces_at_client_ptr)
                                      - offsetof(spicemig_md_display_t, glz_dict_id),
                                  ett_glz_dict, "GLZ dictionary");
    spicemig_add_fixed_field(body, glz_tree, hf_display_glz_dict_id,
                             BODY_FIELD(spicemig_md_display_t, glz_dict_id), NULL, NULL);
    spicemig_add_fixed_field(body, glz_tree, hf_display_glz_dict_size,
                             BODY_FIELD(spicemig_md_display_t, glz_dict_data.size), NULL, &glz_window);
    spicemig_add_fixed_field(body, glz_tree, hf_display_glz_dict_max_encoders,
                             BODY_FIELD(spicemig_md_display_t, glz_dict_data.max_encoders), NULL, NULL);
    spicemig_add_fixed_field(body, glz_tree, hf_display_glz_dict_last_image_id,
                             BODY_FIELD(spicemig_md_display_t, glz_dict_data.last_image_id), NULL, NULL);

    if (!spicemig_add_fixed_field(body, tree, hf_display_surfaces_ptr,
                                  BODY_FIELD(spicemig_md_display_t, surfaces_at_client_ptr), &item, &surfaces_ptr))
        return "";  /* cut short: the caller's summary says so instead */
    return wmem_strdup_printf(body->pinfo->pool, "%s, GLZ window %u",
                              dissect_surfaces(body, tree, item, surfaces_ptr), glz_window);
}

/* ICMD: the inputs channel's motion acknowledgement counter. */
static const char *
dissect_inputs(spicemig_body_t *body, proto_tree *tree, const spicemig_msg_ctx_t *ctx _U_)
{
    guint32 motion_count = 0;

    spicemig_add_fixed_field(body, tree, hf_inputs_motion_count,
                             BODY_FIELD(spicemig_md_inputs_t, motion_count), NULL, &motion_count);
    return wmem_strdup_printf(body->pinfo->pool, "motion count %u", motion_count);
}

/* SCMD: the smartcard device, and the partial message read from it. */
static const char *
dissect_smartcard(spicemig_body_t *body, proto_tree *tree, const spicemig_msg_ctx_t *ctx _U_)
{
    char_device_state_t device = { 0, 0, 0, NULL };
    proto_item *item;
    guint32 reader_added = 0, read_size = 0, read_data_ptr;

    dissect_char_device(body, tree, SPICEMIG_MD_OFFSET(spicemig_md_smartcard_t, base), "Smartcard char device",
                        &device);
    spicemig_add_fixed_field(body, tree, hf_smartcard_reader_added,
                             BODY_FIELD(spicemig_md_smartcard_t, reader_added), NULL, &reader_added);
    spicemig_add_fixed_field(body, tree, hf_smartcard_read_size,
                             BODY_FIELD(spicemig_md_smartcard_t, read_size), NULL, &read_size);
    if (spicemig_add_fixed_field(body, tree, hf_smartcard_read_data_ptr,
                                 BODY_FIELD(spicemig_md_smartcard_t, read_data_ptr), &item, &read_data_ptr))
        add_pointed_bytes(body, tree, hf_smartcard_read_data, item, "Read data offset", read_data_ptr, read_size);

    return wmem_strdup_printf(body->pinfo->pool, "%s, %s, read %u byte%s",
                              char_device_summary(body->pinfo, &device),
                              reader_added ? "reader added" : "no reader", read_size, plurality(read_size, "", "s"));
}

/* SVMD: a spicevmc channel's device (usbredir, port, webdav). */
static const char *
dissect_spicevmc(spicemig_body_t *body, proto_tree *tree, const spicemig_msg_ctx_t *ctx _U_)
{
    char_device_state_t device = { 0, 0, 0, NULL };

    dissect_char_device(body, tree, SPICEMIG_MD_OFFSET(spicemig_md_spicevmc_t, base), "Char device", &device);
    return char_device_summary(body->pinfo, &device);
}

/* One kind of migrate-data body. */
typedef struct {
    const char *magic;            /* the four ASCII bytes of the body start */
    guint32     max_version;
    guint32     fixed_part_end;
    const char *channel_names;    /* for expert infos */
    guint8      channel_types[3]; /* the channels that carry it; unused slots 0 */
    /* Info summary after "MAGIC vN: " */
    const char *(*dissect)(spicemig_body_t *body, proto_tree *tree, const spicemig_msg_ctx_t *ctx);
} migrate_data_kind_t;

static const migrate_data_kind_t migrate_data_kinds[] = {
    { SPICEMIG_MIGRATE_DATA_MAIN_MAGIC, SPICEMIG_MIGRATE_DATA_MAIN_VERSION,
      SPICEMIG_MD_FIXED_PART_END(spicemig_md_main_t), "Main",
      { SPICE_CHANNEL_MAIN }, dissect_main },
    { SPICEMIG_MIGRATE_DATA_DISPLAY_MAGIC, SPICEMIG_MIGRATE_DATA_DISPLAY_VERSION,
      SPICEMIG_MD_FIXED_PART_END(spicemig_md_display_t), "Display",
      { SPICE_CHANNEL_DISPLAY }, dissect_display },
    { SPICEMIG_MIGRATE_DATA_INPUTS_MAGIC, SPICEMIG_MIGRATE_DATA_INPUTS_VERSION,
      SPICEMIG_MD_FIXED_PART_END(spicemig_md_inputs_t), "Inputs",
      { SPICE_CHANNEL_INPUTS }, dissect_inputs },
    { SPICEMIG_MIGRATE_DATA_SMARTCARD_MAGIC, SPICEMIG_MIGRATE_DATA_SMARTCARD_VERSION,
      SPICEMIG_MD_FIXED_PART_END(spicemig_md_smartcard_t), "Smartcard",
      { SPICE_CHANNEL_SMARTCARD }, dissect_smartcard },
    { SPICEMIG_MIGRATE_DATA_SPICEVMC_MAGIC, SPICEMIG_MIGRATE_DATA_SPICEVMC_VERSION,
      SPICEMIG_MD_FIXED_PART_END(spicemig_md_spicevmc_t), "USB redirection, Port or WebDAV",
      { SPICE_CHANNEL_USBREDIR, SPICE_CHANNEL_PORT, SPICE_CHANNEL_WEBDAV }, dissect_spicevmc },
};

/* `magic` as tvb_get_letohl() reads the start of a body. */
static const migrate_data_kind_t *
find_kind(guint32 magic)
{
    guint i;

    for (i = 0; i < G_N_ELEMENTS(migrate_data_kinds); i++) {
        if (spicemig_pletohu32(migrate_data_kinds[i].magic) == magic)
            return &migrate_data_kinds[i];
    }
    return NULL;
}

static gboolean
kind_is_carried_by(const migrate_data_kind_t *kind, guint8 channel_type)
{
    guint i;

    for (i = 0; i < G_N_ELEMENTS(kind->channel_types); i++) {
        if (kind->channel_types[i] == channel_type)
            return TRUE;
    }
    return FALSE;
}

guint8
spicemig_migrate_data_channel(guint32 magic)
{
    const migrate_data_kind_t *kind = find_kind(magic);

    return kind ? kind->channel_types[0] : 0;
}

gboolean
spicemig_migrate_data_plausible(tvbuff_t *tvb, int offset, guint32 body_len)
{
    const migrate_data_kind_t *kind;
    guint32 version;

    if (body_len < sizeof(spicemig_md_header_t) || !tvb_bytes_exist(tvb, offset, sizeof(spicemig_md_header_t)))
        return FALSE;
    kind = find_kind(tvb_get_letohl(tvb, offset + (int)offsetof(spicemig_md_header_t, magic)));
    if (!kind)
        return FALSE;
    version = tvb_get_letohl(tvb, offset + (int)offsetof(spicemig_md_header_t, version));
    return version >= 1 && version <= kind->max_version && body_len >= kind->fixed_part_end;
}

const char *
spicemig_dissect_migrate_data(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const spicemig_msg_ctx_t *ctx)
{
    const migrate_data_kind_t *kind;
    spicemig_body_t body;
    proto_item *magic_item, *version_item;
    guint32 magic, version;
    const char *detail;

    if (tvb_reported_length(tvb) < SPICEMIG_MD_SIZEOF(spicemig_md_header_t, magic)) {
        spicemig_body_init(&body, tvb, pinfo, sizeof(spicemig_md_header_t));
        spicemig_check_fixed_part(&body, tree, "MIGRATE_DATA");
        return wmem_strdup_printf(pinfo->pool, "truncated to %u byte%s", body.len, plurality(body.len, "", "s"));
    }

    magic_item = proto_tree_add_item(tree, hf_magic, tvb, offsetof(spicemig_md_header_t, magic),
                                     SPICEMIG_MD_SIZEOF(spicemig_md_header_t, magic), ENC_ASCII);
    magic = tvb_get_letohl(tvb, offsetof(spicemig_md_header_t, magic));
    kind = find_kind(magic);
    if (!kind) {
        const char *text = tvb_format_text(pinfo->pool, tvb, offsetof(spicemig_md_header_t, magic),
                                           SPICEMIG_MD_SIZEOF(spicemig_md_header_t, magic));
        expert_add_info_format(pinfo, magic_item, &ei_unknown_magic,
                               "Unknown migrate-data magic \"%s\" (0x%08x): not MNMD, DCMD, ICMD, SCMD or SVMD",
                               text, magic);
        spicemig_note_problem(pinfo, SPICEMIG_DST_REJECTS,
                              wmem_strdup_printf(pinfo->pool, "unknown magic %s", text));
        return wmem_strdup_printf(pinfo->pool, "unknown magic \"%s\"", text);
    }
    if (ctx->channel_type != 0 && !kind_is_carried_by(kind, ctx->channel_type)) {
        expert_add_info_format(pinfo, magic_item, &ei_magic_channel_mismatch,
                               "%s is %s migrate data, but this is the %s channel",
                               kind->magic, kind->channel_names, spicemig_channel_name(ctx->channel_type));
        spicemig_note_problem(pinfo, SPICEMIG_DST_REJECTS,
                              wmem_strdup_printf(pinfo->pool, "%s on the %s channel",
                                                 kind->magic, spicemig_channel_name(ctx->channel_type)));
    }

    spicemig_body_init(&body, tvb, pinfo, kind->fixed_part_end);
    if (body.len < sizeof(spicemig_md_header_t)) {
        spicemig_check_fixed_part(&body, tree, kind->magic);
        return wmem_strdup_printf(pinfo->pool, "%s truncated to %u of %u bytes",
                                  kind->magic, body.len, body.fixed_part_end);
    }

    version_item = proto_tree_add_item_ret_uint(tree, hf_version, tvb, offsetof(spicemig_md_header_t, version),
                                                SPICEMIG_MD_SIZEOF(spicemig_md_header_t, version),
                                                ENC_LITTLE_ENDIAN, &version);
    if (version == 0 || version > kind->max_version) {
        expert_add_info_format(pinfo, version_item, &ei_unsupported_version,
                               "%s version %u is not one spice-server 0.15.1 accepts (1 to %u)",
                               kind->magic, version, kind->max_version);
        /* spice-server 0.15.1 takes any version up to its own, 0 included. */
        spicemig_note_problem(pinfo, version > kind->max_version ? SPICEMIG_DST_REJECTS : SPICEMIG_DST_ACCEPTS,
                              wmem_strdup_printf(pinfo->pool, "%s version %u unsupported",
                                                 kind->magic, version));
    }

    /* A short body still shows the fields it has, its truncation after them. */
    detail = kind->dissect(&body, tree, ctx);
    if (!spicemig_check_fixed_part(&body, tree, kind->magic))
        return wmem_strdup_printf(pinfo->pool, "%s v%u: truncated to %u of %u bytes",
                                  kind->magic, version, body.len, body.fixed_part_end);
    spicemig_check_trailing(&body, tree);
    return wmem_strdup_printf(pinfo->pool, "%s v%u: %s", kind->magic, version, detail);
}

void
spicemig_register_migrate_data(int proto, expert_module_t *expert, module_t *prefs_module)
{
    static hf_register_info hf[] = {
        { &hf_magic,
          { "Migrate data magic", "spicemig.magic", FT_STRING, BASE_NONE, NULL, 0x0,
            "Kind of migrate data: MNMD main, DCMD display, ICMD inputs, SCMD smartcard, SVMD spicevmc", HFILL }},
        { &hf_version,
          { "Migrate data version", "spicemig.version", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Version of this kind of migrate data", HFILL }},

        { &hf_display_message_serial,
          { "Display message serial", "spicemig.display.message_serial", FT_UINT64, BASE_DEC, NULL, 0x0,
            "Serial of the last message the source sent on the display channel", HFILL }},
        { &hf_display_low_bandwidth,
          { "Low bandwidth", "spicemig.display.low_bandwidth", FT_BOOLEAN, BASE_NONE, TFS(&tfs_yes_no), 0x0,
            "Whether the source treated the client link as low bandwidth", HFILL }},
        { &hf_display_pixmap_cache_id,
          { "Pixmap cache id", "spicemig.display.pixmap_cache.id", FT_UINT8, BASE_DEC, NULL, 0x0,
            "Id of the pixmap cache shared by the client's display channels", HFILL }},
        { &hf_display_pixmap_cache_size,
          { "Pixmap cache size", "spicemig.display.pixmap_cache.size", FT_INT64, BASE_DEC | BASE_UNIT_STRING,
            &units_pixel_pixels, 0x0, "Size of the pixmap cache in pixels, as the client's DISPLAY_INIT asked for it "
            "(spice-gtk sends its byte budget / 4; spice-server charges width x height per cached image)", HFILL }},
        { &hf_display_pixmap_cache_freezer,
          { "Pixmap cache freezer", "spicemig.display.pixmap_cache.freezer", FT_BOOLEAN, BASE_NONE, TFS(&tfs_yes_no), 0x0,
            "Whether this channel froze the cache on the source and must reset it on the destination", HFILL }},
        { &hf_display_pixmap_cache_client,
          { "Pixmap cache client sync serial", "spicemig.display.pixmap_cache.client", FT_UINT64, BASE_DEC, NULL, 0x0,
            "Message serial up to which a client slot of the pixmap cache is in sync", HFILL }},
        { &hf_display_glz_dict_id,
          { "GLZ dictionary id", "spicemig.display.glz_dict.id", FT_UINT8, BASE_DEC, NULL, 0x0,
            "Id of the GLZ dictionary", HFILL }},
        { &hf_display_glz_dict_size,
          { "GLZ window size", "spicemig.display.glz_dict.size", FT_UINT32, BASE_DEC | BASE_UNIT_STRING,
            &units_pixel_pixels, 0x0, "Size of the GLZ dictionary's window", HFILL }},
        { &hf_display_glz_dict_max_encoders,
          { "GLZ max encoders", "spicemig.display.glz_dict.max_encoders", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Number of encoders that may use the GLZ dictionary", HFILL }},
        { &hf_display_glz_dict_last_image_id,
          { "GLZ last image id", "spicemig.display.glz_dict.last_image_id", FT_UINT64, BASE_DEC, NULL, 0x0,
            "Id of the last image in the GLZ dictionary", HFILL }},
        { &hf_display_surfaces_ptr,
          { "Surfaces list offset", "spicemig.display.surfaces_ptr", FT_UINT32, BASE_DEC | BASE_UNIT_STRING,
            &spicemig_units_body_offset, 0x0,
            "Offset of the list of surfaces the client has (surfaces_at_client_ptr), counted from the body start: "
            "its magic, the first byte after the message header", HFILL }},
        { &hf_display_surfaces_count,
          { "Number of surfaces", "spicemig.display.surfaces.count", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Number of surfaces the client has", HFILL }},
        { &hf_display_surfaces_lossy,
          { "Lossy surfaces list", "spicemig.display.surfaces.lossy", FT_BOOLEAN, BASE_NONE, TFS(&tfs_yes_no), 0x0,
            "Whether the surfaces list has lossy entries {id, lossy_rect} rather than lossless {id}: "
            "not in the body, inferred or set by preference", HFILL }},
        { &hf_display_surface_id,
          { "Surface id", "spicemig.display.surface.id", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Id of a surface the client has (the destination server has surfaces 0 to 1023)", HFILL }},
        { &hf_display_surface_lossy_rect_left,
          { "Lossy rect left", "spicemig.display.surface.lossy_rect.left", FT_INT32, BASE_DEC, NULL, 0x0,
            "Left edge of the surface area the client holds lossy", HFILL }},
        { &hf_display_surface_lossy_rect_top,
          { "Lossy rect top", "spicemig.display.surface.lossy_rect.top", FT_INT32, BASE_DEC, NULL, 0x0,
            "Top edge of the surface area the client holds lossy", HFILL }},
        { &hf_display_surface_lossy_rect_right,
          { "Lossy rect right", "spicemig.display.surface.lossy_rect.right", FT_INT32, BASE_DEC, NULL, 0x0,
            "Right edge of the surface area the client holds lossy", HFILL }},
        { &hf_display_surface_lossy_rect_bottom,
          { "Lossy rect bottom", "spicemig.display.surface.lossy_rect.bottom", FT_INT32, BASE_DEC, NULL, 0x0,
            "Bottom edge of the surface area the client holds lossy", HFILL }},

        { &hf_chardev_version,
          { "Char device version", "spicemig.chardev.version", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Version of the char device part", HFILL }},
        { &hf_chardev_connected,
          { "Char device connected", "spicemig.chardev.connected", FT_BOOLEAN, BASE_NONE, TFS(&tfs_yes_no), 0x0,
            "Whether the source had the device connected", HFILL }},
        { &hf_chardev_num_client_tokens,
          { "Char device client tokens", "spicemig.chardev.num_client_tokens", FT_UINT32,
            BASE_DEC | BASE_SPECIAL_VALS, VALS(chardev_tokens_vals), 0x0,
            "Messages the client may still send for the device; 4294967295 for unlimited (no flow control)", HFILL }},
        { &hf_chardev_num_send_tokens,
          { "Char device send tokens", "spicemig.chardev.num_send_tokens", FT_UINT32,
            BASE_DEC | BASE_SPECIAL_VALS, VALS(chardev_tokens_vals), 0x0,
            "Messages the server may still send to the client from the device; 4294967295 for unlimited "
            "(no flow control)", HFILL }},
        { &hf_chardev_write_size,
          { "Char device write size", "spicemig.chardev.write_size", FT_UINT32, BASE_DEC | BASE_UNIT_STRING,
            &units_byte_bytes, 0x0, "Bytes queued for writing to the device", HFILL }},
        { &hf_chardev_write_num_client_tokens,
          { "Char device write client tokens", "spicemig.chardev.write_num_client_tokens", FT_UINT32,
            BASE_DEC | BASE_SPECIAL_VALS, VALS(chardev_tokens_vals), 0x0,
            "Client messages that are part of the queued write data; 4294967295 for unlimited", HFILL }},
        { &hf_chardev_write_data_ptr,
          { "Write data offset", "spicemig.chardev.write_data_ptr", FT_UINT32, BASE_DEC | BASE_UNIT_STRING,
            &spicemig_units_body_offset, 0x0,
            "Offset of the queued write data (write_data_ptr), counted from the body start: its magic; 0 when "
            "there is none", HFILL }},
        { &hf_chardev_write_data,
          { "Char device write data", "spicemig.chardev.write_data", FT_BYTES, BASE_NONE, NULL, 0x0,
            "Data queued for writing to the device", HFILL }},

        { &hf_inputs_motion_count,
          { "Motion count", "spicemig.inputs.motion_count", FT_UINT16, BASE_DEC, NULL, 0x0,
            "Motion events sent since the last acknowledgement", HFILL }},

        { &hf_smartcard_reader_added,
          { "Smartcard reader added", "spicemig.smartcard.reader_added", FT_BOOLEAN, BASE_NONE, TFS(&tfs_yes_no), 0x0,
            "Whether the client had added a smartcard reader", HFILL }},
        { &hf_smartcard_read_size,
          { "Smartcard read size", "spicemig.smartcard.read_size", FT_UINT32, BASE_DEC | BASE_UNIT_STRING,
            &units_byte_bytes, 0x0, "Bytes of a partial message read from the device", HFILL }},
        { &hf_smartcard_read_data_ptr,
          { "Read data offset", "spicemig.smartcard.read_data_ptr", FT_UINT32, BASE_DEC | BASE_UNIT_STRING,
            &spicemig_units_body_offset, 0x0,
            "Offset of the partial read data (read_data_ptr), counted from the body start: its magic; 0 when "
            "there is none", HFILL }},
        { &hf_smartcard_read_data,
          { "Smartcard read data", "spicemig.smartcard.read_data", FT_BYTES, BASE_NONE, NULL, 0x0,
            "Partial message read from the device", HFILL }},

        { &hf_main_client_agent_started,
          { "Client agent started", "spicemig.main.client_agent_started", FT_BOOLEAN, BASE_NONE,
            TFS(&tfs_yes_no), 0x0, "Whether the client had sent AGENT_START", HFILL }},
        { &hf_main_a2c_chunk_header_size,
          { "Chunk header bytes read", "spicemig.main.agent2client.chunk_header_size", FT_UINT32, BASE_DEC,
            NULL, 0x0, "How much of the current VDIChunkHeader the source had read from the agent", HFILL }},
        { &hf_main_a2c_chunk_header_port,
          { "Chunk port", "spicemig.main.agent2client.chunk_header.port", FT_UINT32, BASE_DEC,
            VALS(spicemig_vdi_port_vals), 0x0, "Port of the current VDIChunkHeader from the agent", HFILL }},
        { &hf_main_a2c_chunk_header_size_field,
          { "Chunk size", "spicemig.main.agent2client.chunk_header.size", FT_UINT32, BASE_DEC | BASE_UNIT_STRING,
            &units_byte_bytes, 0x0, "Bytes of the current chunk still to be read from the agent", HFILL }},
        { &hf_main_a2c_msg_header_done,
          { "Message header done", "spicemig.main.agent2client.msg_header_done", FT_BOOLEAN, BASE_NONE,
            TFS(&tfs_yes_no), 0x0, "Whether the source had read the whole VDAgentMessage header", HFILL }},
        { &hf_main_a2c_msg_header_partial_len,
          { "Partial header length", "spicemig.main.agent2client.msg_header_partial_len", FT_UINT32,
            BASE_DEC | BASE_UNIT_STRING, &units_byte_bytes, 0x0,
            "Bytes of the VDAgentMessage header the source had read", HFILL }},
        { &hf_main_a2c_msg_header_ptr,
          { "Partial header offset", "spicemig.main.agent2client.msg_header_ptr", FT_UINT32,
            BASE_DEC | BASE_UNIT_STRING, &spicemig_units_body_offset, 0x0,
            "Offset of the partial VDAgentMessage header (msg_header_ptr), counted from the body start: its magic; "
            "0 when there is none", HFILL }},
        { &hf_main_a2c_msg_remaining,
          { "Agent message remaining", "spicemig.main.agent2client.msg_remaining", FT_UINT32,
            BASE_DEC | BASE_UNIT_STRING, &units_byte_bytes, 0x0,
            "Bytes of the current agent message still to come", HFILL }},
        { &hf_main_a2c_msg_filter_result,
          { "Agent message filter result", "spicemig.main.agent2client.msg_filter_result", FT_UINT8, BASE_DEC,
            VALS(agent_msg_filter_vals), 0x0, "What the source decided for the agent message in progress", HFILL }},
        { &hf_main_c2a_msg_remaining,
          { "Client message remaining", "spicemig.main.client2agent.msg_remaining", FT_UINT32,
            BASE_DEC | BASE_UNIT_STRING, &units_byte_bytes, 0x0,
            "Bytes of the current client message still to come", HFILL }},
        { &hf_main_c2a_msg_filter_result,
          { "Client message filter result", "spicemig.main.client2agent.msg_filter_result", FT_UINT8, BASE_DEC,
            VALS(agent_msg_filter_vals), 0x0, "What the source decided for the client message in progress", HFILL }},
        { &hf_main_partial_msg_protocol,
          { "Partial agent message protocol", "spicemig.main.partial_msg.protocol", FT_UINT32, BASE_DEC, NULL, 0x0,
            "VDAgentMessage protocol (VD_AGENT_PROTOCOL is 1)", HFILL }},
        { &hf_main_partial_msg_type,
          { "Partial agent message type", "spicemig.main.partial_msg.type", FT_UINT32, BASE_DEC, VALS(spicemig_agent_type_vals), 0x0,
            "VDAgentMessage type", HFILL }},
        { &hf_main_partial_msg_opaque,
          { "Partial agent message opaque", "spicemig.main.partial_msg.opaque", FT_UINT64, BASE_HEX, NULL, 0x0,
            "VDAgentMessage opaque word", HFILL }},
        { &hf_main_partial_msg_size,
          { "Partial agent message size", "spicemig.main.partial_msg.size", FT_UINT32, BASE_DEC | BASE_UNIT_STRING,
            &units_byte_bytes, 0x0, "VDAgentMessage size", HFILL }},
        { &hf_main_partial_msg_data,
          { "Partial agent message data", "spicemig.main.partial_msg.data", FT_BYTES, BASE_NONE, NULL, 0x0,
            "The partial VDAgentMessage header as read", HFILL }},
    };

    static gint *ett[] = {
        &ett_pixmap_cache,
        &ett_glz_dict,
        &ett_surfaces,
        &ett_surfaces_layout,
        &ett_surface,
        &ett_char_device,
        &ett_agent2client,
        &ett_client2agent,
        &ett_partial_msg,
        &ett_write_data,
    };

    static ei_register_info ei[] = {
        { &ei_unknown_magic,
          { "spicemig.unknown_magic", PI_PROTOCOL, PI_ERROR,
            "Unknown migrate-data magic", EXPFILL }},
        { &ei_unsupported_version,
          { "spicemig.unsupported_version", PI_PROTOCOL, PI_ERROR,
            "Migrate-data version the destination server rejects", EXPFILL }},
        { &ei_magic_channel_mismatch,
          { "spicemig.magic_channel_mismatch", PI_PROTOCOL, PI_ERROR,
            "Migrate data of another channel type", EXPFILL }},
        { &ei_chardev_unsupported_version,
          { "spicemig.chardev.unsupported_version", PI_PROTOCOL, PI_ERROR,
            "Char device version the destination server rejects", EXPFILL }},
        { &ei_surface_id_out_of_range,
          { "spicemig.surface_id_out_of_range", PI_PROTOCOL, PI_ERROR,
            "Surface id beyond the destination server's surfaces", EXPFILL }},
        { &ei_surfaces_layout_ambiguous,
          { "spicemig.display.surfaces_layout_ambiguous", PI_ASSUMPTION, PI_NOTE,
            "Surfaces list layout cannot be inferred", EXPFILL }},
        { &ei_main_chunk_header_size_too_large,
          { "spicemig.main.chunk_header_size_too_large", PI_PROTOCOL, PI_ERROR,
            "Chunk header bytes read larger than a VDIChunkHeader", EXPFILL }},
        { &ei_main_partial_header_too_long,
          { "spicemig.main.partial_header_too_long", PI_PROTOCOL, PI_ERROR,
            "Partial agent message header as long as a whole one", EXPFILL }},
    };

    proto_register_field_array(proto, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_register_field_array(expert, ei, array_length(ei));

    prefs_register_enum_preference(prefs_module, "surfaces_layout", "Surfaces list layout",
                                   "How to read the display migrate data's list of surfaces at the client: "
                                   "nothing in the body says whether its entries are lossless {id} or "
                                   "lossy {id, lossy_rect}: the destination server picks the layout by its own JPEG "
                                   "setting (lossy when it may send JPEG, e.g. jpeg-wan-compression=always). "
                                   "Infer picks the layout that ends exactly at the end of the body.",
                                   &surfaces_layout_pref, surfaces_layout_vals, FALSE);
}
