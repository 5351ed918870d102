/* spicemig-control.c
 * The SPICE messages that drive a migration, other than the migrate-data
 * bodies: MIGRATE and its flush mark, WAIT_FOR_CHANNELS, DISCONNECTING on
 * every channel, and the main channel's MIGRATE_BEGIN(_SEAMLESS),
 * MIGRATE_SWITCH_HOST and their answers. Layouts from spice-common's
 * spice.proto (the generated structures are not installed by any package).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <wireshark.h>
#include <epan/packet.h>
#include <epan/expert.h>
#include <epan/strutil.h>
#include <epan/tfs.h>
#include <epan/unit_strings.h>
#include <wsutil/str_util.h>

#include "spicemig.h"

/* MIGRATE: migrate_flags flags. */
#define MIGRATE_FLAGS_OFFSET 0
#define MIGRATE_LEN          4

/* WAIT_FOR_CHANNELS: wait_count u8, then that many
 * WaitForChannel {channel_type u8, channel_id u8, message_serial u64}. */
#define WAIT_COUNT_OFFSET          0
#define WAIT_LIST_OFFSET           1
#define WAIT_ENTRY_TYPE_OFFSET     0
#define WAIT_ENTRY_ID_OFFSET       1
#define WAIT_ENTRY_SERIAL_OFFSET   2
#define WAIT_ENTRY_LEN             10

/* DISCONNECTING: time_stamp u64, reason link_err (u32). */
#define DISCONNECTING_TIME_STAMP_OFFSET 0
#define DISCONNECTING_REASON_OFFSET     8
#define DISCONNECTING_LEN               12

/* DstInfo {port u16, sport u16, host_size u32, host_data ptr u32,
 * cert_subject_size u32, cert_subject_data ptr u32}: the body of
 * MIGRATE_BEGIN, the start of MIGRATE_BEGIN_SEAMLESS (which adds
 * src_mig_version u32) and, field for field, MIGRATE_SWITCH_HOST. The
 * pointers are offsets from the body start to zero-terminated strings. */
#define DST_INFO_PORT_OFFSET              0
#define DST_INFO_SPORT_OFFSET             2
#define DST_INFO_HOST_SIZE_OFFSET         4
#define DST_INFO_HOST_PTR_OFFSET          8
#define DST_INFO_CERT_SUBJECT_SIZE_OFFSET 12
#define DST_INFO_CERT_SUBJECT_PTR_OFFSET  16
#define DST_INFO_LEN                      20
#define BEGIN_SEAMLESS_VERSION_OFFSET     DST_INFO_LEN
#define BEGIN_SEAMLESS_LEN                (DST_INFO_LEN + 4)

/* MIGRATE_DST_DO_SEAMLESS: src_version u32. */
#define DST_DO_SEAMLESS_VERSION_OFFSET 0
#define DST_DO_SEAMLESS_LEN            4

/* A port (plain or TLS) of 0xffff (-1 in QEMU) or 0 means there is none:
 * a destination with only a tls-port sends plain port 0. */
#define NO_PORT(port) ((port) == 0 || (port) == 0xffff)

/* The port values that stand for "no port" (BASE_SPECIAL_VALS: any other
 * value is a port number). */
static const value_string no_port_vals[] = {
    { 0,      "none" },
    { 0xffff, "none" },
    { 0, NULL }
};

static int hf_migrate_flags = -1;
static int hf_migrate_flags_need_flush = -1;
static int hf_migrate_flags_need_data_transfer = -1;
static int hf_wait_count = -1;
static int hf_wait_channel_type = -1;
static int hf_wait_channel_id = -1;
static int hf_wait_message_serial = -1;
static int hf_disconnecting_time_stamp = -1;
static int hf_disconnecting_reason = -1;
static int hf_dst_info_port = -1;
static int hf_dst_info_sport = -1;
static int hf_dst_info_host_size = -1;
static int hf_dst_info_host_ptr = -1;
static int hf_dst_info_cert_subject_size = -1;
static int hf_dst_info_cert_subject_ptr = -1;
static int hf_dst_info_host = -1;
static int hf_dst_info_cert_subject = -1;
static int hf_src_mig_version = -1;

static gint ett_migrate_flags = -1;
static gint ett_wait_entry = -1;

static expert_field ei_migrate_unknown_flags = EI_INIT;
static expert_field ei_dst_info_string_not_terminated = EI_INIT;

const value_string spicemig_link_err_vals[] = {
    { SPICE_LINK_ERR_OK,                     "OK" },
    { SPICE_LINK_ERR_ERROR,                  "Error" },
    { SPICE_LINK_ERR_INVALID_MAGIC,          "Invalid magic" },
    { SPICE_LINK_ERR_INVALID_DATA,           "Invalid data" },
    { SPICE_LINK_ERR_VERSION_MISMATCH,       "Version mismatch" },
    { SPICE_LINK_ERR_NEED_SECURED,           "Need secured" },
    { SPICE_LINK_ERR_NEED_UNSECURED,         "Need unsecured" },
    { SPICE_LINK_ERR_PERMISSION_DENIED,      "Permission denied" },
    { SPICE_LINK_ERR_BAD_CONNECTION_ID,      "Bad connection id" },
    { SPICE_LINK_ERR_CHANNEL_NOT_AVAILABLE,  "Channel not available" },
    { 0, NULL }
};

static const value_string migrate_flag_names[] = {
    { SPICE_MIGRATE_NEED_FLUSH,         "NEED_FLUSH" },
    { SPICE_MIGRATE_NEED_DATA_TRANSFER, "NEED_DATA_TRANSFER" },
    { 0, NULL }
};

static const char *
migrate_flags_text(wmem_allocator_t *scope, guint32 flags)
{
    wmem_strbuf_t *text = wmem_strbuf_new(scope, "");
    guint32 unknown = flags & ~(guint32)SPICE_MIGRATE_FLAGS_MASK;
    guint i;

    for (i = 0; migrate_flag_names[i].strptr; i++) {
        if (flags & migrate_flag_names[i].value)
            wmem_strbuf_append_printf(text, "%s%s", wmem_strbuf_get_len(text) ? "|" : "",
                                      migrate_flag_names[i].strptr);
    }
    if (unknown)
        wmem_strbuf_append_printf(text, "%s0x%08x", wmem_strbuf_get_len(text) ? "|" : "", unknown);
    if (flags == 0)
        wmem_strbuf_append(text, "(none)");
    return wmem_strbuf_finalize(text);
}

static const char *
dissect_migrate(spicemig_body_t *body, proto_tree *tree, const char *name)
{
    static int * const flag_fields[] = {
        &hf_migrate_flags_need_flush,
        &hf_migrate_flags_need_data_transfer,
        NULL
    };
    proto_item *item;
    guint64 flags;
    guint32 unknown;

    if (!spicemig_check_fixed_part(body, tree, name))
        return "truncated";
    item = proto_tree_add_bitmask_ret_uint64(tree, body->tvb, MIGRATE_FLAGS_OFFSET, hf_migrate_flags,
                                             ett_migrate_flags, flag_fields, ENC_LITTLE_ENDIAN, &flags);
    if (flags == 0)
        proto_item_append_text(item, " (none)");
    unknown = (guint32)flags & ~(guint32)SPICE_MIGRATE_FLAGS_MASK;
    if (unknown)
        expert_add_info_format(body->pinfo, item, &ei_migrate_unknown_flags,
                               "MIGRATE flags 0x%08x have bits 0x%08x outside NEED_FLUSH|NEED_DATA_TRANSFER",
                               (guint32)flags, unknown);
    return wmem_strdup_printf(body->pinfo->pool, "flags %s", migrate_flags_text(body->pinfo->pool, (guint32)flags));
}

const char *
spicemig_dissect_wait_list(spicemig_body_t *body, proto_tree *tree, const char *name)
{
    proto_item *count_item;
    guint32 count, present, i;

    if (!spicemig_check_fixed_part(body, tree, name))
        return "truncated";
    count_item = proto_tree_add_item_ret_uint(tree, hf_wait_count, body->tvb, WAIT_COUNT_OFFSET, 1,
                                              ENC_LITTLE_ENDIAN, &count);
    present = spicemig_check_count(body, count_item, "Wait count", count, WAIT_LIST_OFFSET, WAIT_ENTRY_LEN);
    for (i = 0; i < present; i++) {
        guint32 offset = WAIT_LIST_OFFSET + i * WAIT_ENTRY_LEN;
        proto_tree *entry_tree;
        proto_item *entry_item;
        guint32 channel_type, channel_id;
        guint64 serial;

        entry_tree = proto_tree_add_subtree(tree, body->tvb, offset, WAIT_ENTRY_LEN, ett_wait_entry, &entry_item,
                                            "Wait for");
        proto_tree_add_item_ret_uint(entry_tree, hf_wait_channel_type, body->tvb, offset + WAIT_ENTRY_TYPE_OFFSET,
                                     1, ENC_LITTLE_ENDIAN, &channel_type);
        proto_tree_add_item_ret_uint(entry_tree, hf_wait_channel_id, body->tvb, offset + WAIT_ENTRY_ID_OFFSET,
                                     1, ENC_LITTLE_ENDIAN, &channel_id);
        proto_tree_add_item_ret_uint64(entry_tree, hf_wait_message_serial, body->tvb,
                                       offset + WAIT_ENTRY_SERIAL_OFFSET, 8, ENC_LITTLE_ENDIAN, &serial);
        proto_item_append_text(entry_item, " %s channel %u, message serial %" PRIu64,
                               spicemig_channel_name((guint8)channel_type), channel_id, serial);
    }
    return wmem_strdup_printf(body->pinfo->pool, "%u channel%s", count, plurality(count, "", "s"));
}

static const char *
dissect_disconnecting(spicemig_body_t *body, proto_tree *tree, const char *name)
{
    guint32 reason;

    spicemig_add_fixed_field(body, tree, hf_disconnecting_time_stamp, DISCONNECTING_TIME_STAMP_OFFSET, 8,
                             NULL, NULL);
    spicemig_add_fixed_field(body, tree, hf_disconnecting_reason, DISCONNECTING_REASON_OFFSET, 4, NULL, &reason);
    if (!spicemig_check_fixed_part(body, tree, name))
        return "truncated";
    return wmem_strdup_printf(body->pinfo->pool, "reason %s",
                              spicemig_val_to_str(body->pinfo->pool, reason, spicemig_link_err_vals, "%u"));
}

/* A zero-terminated DstInfo string at a pointer + size pair, as field `hf`.
 * Returns its text for the Info column, NULL when there is none. */
static const char *
add_dst_string(spicemig_body_t *body, proto_tree *tree, int hf, proto_item *ptr_item, const char *ptr_name,
               guint32 ptr, guint32 size)
{
    proto_item *item;
    const guint8 *text;

    if (!spicemig_check_pointer(body, ptr_item, ptr_name, ptr, size) || size == 0)
        return NULL;
    item = proto_tree_add_item_ret_string(tree, hf, body->tvb, ptr, size, ENC_UTF_8, body->pinfo->pool, &text);
    if (spicemig_tvb_find_u8(body->tvb, ptr, size, 0) == -1)
        expert_add_info_format(body->pinfo, item, &ei_dst_info_string_not_terminated,
                               "%s at offset %u has no terminating NUL within its %u bytes", ptr_name, ptr, size);
    return spicemig_format_text(body->pinfo->pool, text, strlen((const char *)text));
}

/* MIGRATE_BEGIN, MIGRATE_BEGIN_SEAMLESS (with_version) and
 * MIGRATE_SWITCH_HOST: where the client is to connect. */
static const char *
dissect_dst_info(spicemig_body_t *body, proto_tree *tree, const char *name, gboolean with_version)
{
    proto_item *host_ptr_item = NULL, *cert_ptr_item = NULL;
    guint32 port = 0, sport = 0, host_size = 0, host_ptr = 0, cert_size = 0, cert_ptr = 0, version = 0;
    const char *host;
    wmem_strbuf_t *summary;

    spicemig_add_fixed_field(body, tree, hf_dst_info_port, DST_INFO_PORT_OFFSET, 2, NULL, &port);
    spicemig_add_fixed_field(body, tree, hf_dst_info_sport, DST_INFO_SPORT_OFFSET, 2, NULL, &sport);
    spicemig_add_fixed_field(body, tree, hf_dst_info_host_size, DST_INFO_HOST_SIZE_OFFSET, 4, NULL, &host_size);
    spicemig_add_fixed_field(body, tree, hf_dst_info_host_ptr, DST_INFO_HOST_PTR_OFFSET, 4,
                             &host_ptr_item, &host_ptr);
    spicemig_add_fixed_field(body, tree, hf_dst_info_cert_subject_size, DST_INFO_CERT_SUBJECT_SIZE_OFFSET, 4,
                             NULL, &cert_size);
    spicemig_add_fixed_field(body, tree, hf_dst_info_cert_subject_ptr, DST_INFO_CERT_SUBJECT_PTR_OFFSET, 4,
                             &cert_ptr_item, &cert_ptr);
    if (with_version)
        spicemig_add_fixed_field(body, tree, hf_src_mig_version, BEGIN_SEAMLESS_VERSION_OFFSET, 4, NULL, &version);
    if (!spicemig_check_fixed_part(body, tree, name))
        return "truncated";

    host = add_dst_string(body, tree, hf_dst_info_host, host_ptr_item, "Destination host offset", host_ptr, host_size);
    add_dst_string(body, tree, hf_dst_info_cert_subject, cert_ptr_item, "Destination certificate subject offset", cert_ptr, cert_size);

    summary = wmem_strbuf_new(body->pinfo->pool, "");
    wmem_strbuf_append_printf(summary, "to %s", host ? host : "?");
    if (!NO_PORT(port))
        wmem_strbuf_append_printf(summary, ":%u", port);
    if (!NO_PORT(sport))
        wmem_strbuf_append_printf(summary, ", TLS port %u", sport);
    if (with_version)
        wmem_strbuf_append_printf(summary, " (src version %u)", version);
    return wmem_strbuf_finalize(summary);
}

static const char *
dissect_dst_do_seamless(spicemig_body_t *body, proto_tree *tree, const char *name)
{
    guint32 version;

    if (!spicemig_check_fixed_part(body, tree, name))
        return "truncated";
    proto_tree_add_item_ret_uint(tree, hf_src_mig_version, body->tvb, DST_DO_SEAMLESS_VERSION_OFFSET, 4,
                                 ENC_LITTLE_ENDIAN, &version);
    return wmem_strdup_printf(body->pinfo->pool, "src version %u", version);
}

static const char *
dissect_migrate_begin(spicemig_body_t *body, proto_tree *tree, const char *name)
{
    return dissect_dst_info(body, tree, name, FALSE);
}

static const char *
dissect_migrate_begin_seamless(spicemig_body_t *body, proto_tree *tree, const char *name)
{
    return dissect_dst_info(body, tree, name, TRUE);
}

/* The migration messages other than MIGRATE_DATA. */
typedef struct {
    gboolean    from_server;
    guint16     type;
    gboolean    main_channel_only;  /* a main channel message, not a common one */
    guint32     fixed_len;          /* all of the body but DstInfo strings and the wait list */
    const char *(*dissect)(spicemig_body_t *body, proto_tree *tree, const char *name);  /* NULL: empty */
} control_message_t;

static const control_message_t control_messages[] = {
    { TRUE,  SPICE_MSG_MIGRATE,                          FALSE, MIGRATE_LEN,         dissect_migrate },
    { TRUE,  SPICE_MSG_WAIT_FOR_CHANNELS,                FALSE, WAIT_LIST_OFFSET,    spicemig_dissect_wait_list },
    { TRUE,  SPICE_MSG_DISCONNECTING,                    FALSE, DISCONNECTING_LEN,   dissect_disconnecting },
    { TRUE,  SPICE_MSG_MAIN_MIGRATE_BEGIN,               TRUE,  DST_INFO_LEN,        dissect_migrate_begin },
    { TRUE,  SPICE_MSG_MAIN_MIGRATE_CANCEL,              TRUE,  0,                   NULL },
    { TRUE,  SPICE_MSG_MAIN_MIGRATE_SWITCH_HOST,         TRUE,  DST_INFO_LEN,        dissect_migrate_begin },
    { TRUE,  SPICE_MSG_MAIN_MIGRATE_END,                 TRUE,  0,                   NULL },
    { TRUE,  SPICE_MSG_MAIN_MIGRATE_BEGIN_SEAMLESS,      TRUE,  BEGIN_SEAMLESS_LEN,  dissect_migrate_begin_seamless },
    { TRUE,  SPICE_MSG_MAIN_MIGRATE_DST_SEAMLESS_ACK,    TRUE,  0,                   NULL },
    { TRUE,  SPICE_MSG_MAIN_MIGRATE_DST_SEAMLESS_NACK,   TRUE,  0,                   NULL },
    { FALSE, SPICE_MSGC_MIGRATE_FLUSH_MARK,              FALSE, 0,                   NULL },
    { FALSE, SPICE_MSGC_DISCONNECTING,                   FALSE, DISCONNECTING_LEN,   dissect_disconnecting },
    { FALSE, SPICE_MSGC_MAIN_MIGRATE_CONNECTED,          TRUE,  0,                   NULL },
    { FALSE, SPICE_MSGC_MAIN_MIGRATE_CONNECT_ERROR,      TRUE,  0,                   NULL },
    { FALSE, SPICE_MSGC_MAIN_MIGRATE_END,                TRUE,  0,                   NULL },
    { FALSE, SPICE_MSGC_MAIN_MIGRATE_DST_DO_SEAMLESS,    TRUE,  DST_DO_SEAMLESS_LEN, dissect_dst_do_seamless },
    { FALSE, SPICE_MSGC_MAIN_MIGRATE_CONNECTED_SEAMLESS, TRUE,  0,                   NULL },
};

static const control_message_t *
find_control_message(const spicemig_msg_ctx_t *ctx, guint16 type)
{
    guint i;

    /* Every message of the table is common or the main channel's: skip the
     * scan for the drawing, inputs and cursor messages that make up most traffic. */
    if (type > SPICE_MSG_BASE_LAST && ctx->channel_type != SPICE_CHANNEL_MAIN)
        return NULL;
    for (i = 0; i < G_N_ELEMENTS(control_messages); i++) {
        const control_message_t *msg = &control_messages[i];

        if (msg->type == type && msg->from_server == ctx->from_server
            && (!msg->main_channel_only || ctx->channel_type == SPICE_CHANNEL_MAIN))
            return msg;
    }
    return NULL;
}

static gboolean
is_migrate_data(const spicemig_msg_ctx_t *ctx, guint16 type)
{
    return type == (ctx->from_server ? SPICE_MSG_MIGRATE_DATA : SPICE_MSGC_MIGRATE_DATA);
}

gboolean
spicemig_is_migration_message(const spicemig_msg_ctx_t *ctx, guint16 type)
{
    return is_migrate_data(ctx, type) || find_control_message(ctx, type) != NULL;
}

const char *
spicemig_dissect_control(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const spicemig_msg_ctx_t *ctx,
                         guint16 type)
{
    const control_message_t *msg;
    const char *summary = NULL;
    spicemig_body_t body;

    if (is_migrate_data(ctx, type))
        return spicemig_dissect_migrate_data(tvb, pinfo, tree, ctx);
    msg = find_control_message(ctx, type);
    if (!msg)
        return NULL;

    spicemig_body_init(&body, tvb, pinfo, msg->fixed_len);
    if (msg->dissect)
        summary = msg->dissect(&body, tree, spicemig_message_name(ctx, type));
    /* For an empty message, anything in it is trailing data. */
    spicemig_check_trailing(&body, tree);
    return summary;
}

void
spicemig_register_control(int proto, expert_module_t *expert)
{
    static hf_register_info hf[] = {
        { &hf_migrate_flags,
          { "Migrate flags", "spicemig.migrate.flags", FT_UINT32, BASE_HEX, NULL, 0x0,
            "What the client is to do for the migration", HFILL }},
        { &hf_migrate_flags_need_flush,
          { "Need flush", "spicemig.migrate.flags.need_flush", FT_BOOLEAN, 32, TFS(&tfs_yes_no),
            SPICE_MIGRATE_NEED_FLUSH, "The client answers with MIGRATE_FLUSH_MARK", HFILL }},
        { &hf_migrate_flags_need_data_transfer,
          { "Need data transfer", "spicemig.migrate.flags.need_data_transfer", FT_BOOLEAN, 32,
            TFS(&tfs_yes_no), SPICE_MIGRATE_NEED_DATA_TRANSFER,
            "MIGRATE_DATA follows, for the client to forward to the destination", HFILL }},
        { &hf_wait_count,
          { "Wait count", "spicemig.wait.count", FT_UINT8, BASE_DEC, NULL, 0x0,
            "Number of channels to wait for", HFILL }},
        { &hf_wait_channel_type,
          { "Wait channel type", "spicemig.wait.channel_type", FT_UINT8, BASE_DEC,
            VALS(spicemig_channel_type_vals), 0x0, "Type of a channel the client must wait for", HFILL }},
        { &hf_wait_channel_id,
          { "Wait channel id", "spicemig.wait.channel_id", FT_UINT8, BASE_DEC, NULL, 0x0,
            "Id of a channel the client must wait for", HFILL }},
        { &hf_wait_message_serial,
          { "Wait message serial", "spicemig.wait.message_serial", FT_UINT64, BASE_DEC, NULL, 0x0,
            "Serial of the message on that channel the client must have processed first", HFILL }},
        { &hf_disconnecting_time_stamp,
          { "Disconnecting time stamp", "spicemig.disconnecting.time_stamp", FT_UINT64, BASE_DEC, NULL, 0x0,
            "When the sender disconnected, in its own clock", HFILL }},
        { &hf_disconnecting_reason,
          { "Disconnecting reason", "spicemig.disconnecting.reason", FT_UINT32, BASE_DEC, VALS(spicemig_link_err_vals), 0x0,
            "Why the sender disconnects", HFILL }},
        { &hf_dst_info_port,
          { "Destination port", "spicemig.dst_info.port", FT_UINT16, BASE_DEC | BASE_SPECIAL_VALS,
            VALS(no_port_vals), 0x0, "Plain port of the destination server; 0 or 65535 for none (TLS only)", HFILL }},
        { &hf_dst_info_sport,
          { "Destination TLS port", "spicemig.dst_info.sport", FT_UINT16, BASE_DEC | BASE_SPECIAL_VALS,
            VALS(no_port_vals), 0x0, "TLS port of the destination server; 65535 or 0 for none", HFILL }},
        { &hf_dst_info_host_size,
          { "Destination host size", "spicemig.dst_info.host_size", FT_UINT32, BASE_DEC | BASE_UNIT_STRING,
            &units_byte_bytes, 0x0, "Size of the host string, its NUL included", HFILL }},
        { &hf_dst_info_host_ptr,
          { "Destination host offset", "spicemig.dst_info.host_ptr", FT_UINT32, BASE_DEC | BASE_UNIT_STRING,
            &spicemig_units_body_offset, 0x0,
            "Offset of the host string (host_data), counted from the body start: its destination port, the first "
            "byte after the message header", HFILL }},
        { &hf_dst_info_cert_subject_size,
          { "Destination certificate subject size", "spicemig.dst_info.cert_subject_size", FT_UINT32,
            BASE_DEC | BASE_UNIT_STRING, &units_byte_bytes, 0x0,
            "Size of the certificate subject string, its NUL included", HFILL }},
        { &hf_dst_info_cert_subject_ptr,
          { "Destination certificate subject offset", "spicemig.dst_info.cert_subject_ptr", FT_UINT32,
            BASE_DEC | BASE_UNIT_STRING, &spicemig_units_body_offset, 0x0,
            "Offset of the certificate subject string (cert_subject_data), counted from the body start: its "
            "destination port; 0 when there is none", HFILL }},
        { &hf_dst_info_host,
          { "Destination host", "spicemig.dst_info.host", FT_STRINGZ, BASE_NONE, NULL, 0x0,
            "Destination server host", HFILL }},
        { &hf_dst_info_cert_subject,
          { "Destination certificate subject", "spicemig.dst_info.cert_subject", FT_STRINGZ, BASE_NONE, NULL, 0x0,
            "Subject the destination server's TLS certificate must have", HFILL }},
        { &hf_src_mig_version,
          { "Source migration version", "spicemig.src_mig_version", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Migration protocol version of the source server", HFILL }},
    };

    static gint *ett[] = {
        &ett_migrate_flags,
        &ett_wait_entry,
    };

    static ei_register_info ei[] = {
        { &ei_migrate_unknown_flags,
          { "spicemig.migrate.unknown_flags", PI_PROTOCOL, PI_WARN,
            "MIGRATE flags outside NEED_FLUSH|NEED_DATA_TRANSFER", EXPFILL }},
        { &ei_dst_info_string_not_terminated,
          { "spicemig.dst_info.string_not_terminated", PI_PROTOCOL, PI_WARN,
            "Destination string without its terminating NUL", EXPFILL }},
    };

    proto_register_field_array(proto, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_register_field_array(expert, ei, array_length(ei));
}
