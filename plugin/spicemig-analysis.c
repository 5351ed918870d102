/* spicemig-analysis.c
 * Follows a migration across connections: SPICE sessions, the source and
 * destination role of each server, each migration as one object with its
 * kind and times, and the check that every migrate-data body the source
 * sent reached the destination unchanged.
 *
 * A session is found by its id (the source's MAIN_INIT session id, which the
 * client's link messages carry as connection_id on every other channel, the
 * destination's included); a migration by the session it leaves; a body by
 * its migration and channel. Every look-up is a wmem_map or a pointer, and
 * everything is recorded on the first pass and only read afterwards.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <wireshark.h>
#include <epan/packet.h>
#include <epan/expert.h>
#include <epan/tap.h>
#include <epan/to_str.h>
#include <epan/proto_data.h>
#include <epan/tfs.h>
#include <wsutil/pint.h>

#include "spicemig.h"
#include "spicemig-layouts.h"

/* MAIN_INIT: session_id u32 first. */
#define MAIN_INIT_SESSION_ID_OFFSET 0
/* DstInfo (MIGRATE_BEGIN, _SEAMLESS, SWITCH_HOST): port u16, sport u16,
 * host_size u32, host_data ptr u32, ...; _SEAMLESS adds src_mig_version at 20. */
#define DST_INFO_PORT_OFFSET          0
#define DST_INFO_HOST_SIZE_OFFSET     4
#define DST_INFO_HOST_PTR_OFFSET      8
#define BEGIN_SEAMLESS_VERSION_OFFSET 20
/* MIGRATE_DST_DO_SEAMLESS: src_version u32. */
#define DST_DO_SEAMLESS_VERSION_OFFSET 0
/* MIGRATE: flags u32. */
#define MIGRATE_FLAGS_OFFSET 0
/* SpiceMsgcDisplayInit: pixmap_cache_id u8, pixmap_cache_size i64,
 * glz_dictionary_id u8, glz_dictionary_window_size i32. */
#define DISPLAY_INIT_CACHE_ID_OFFSET    0
#define DISPLAY_INIT_CACHE_SIZE_OFFSET  1
#define DISPLAY_INIT_GLZ_ID_OFFSET      9
#define DISPLAY_INIT_GLZ_WINDOW_OFFSET  10
#define DISPLAY_INIT_LEN                14

/* Packet-scope key: the "destination resumed drawing" milestone is in this
 * frame already (spicemig-stream.c uses 0 and 1, spicemig-body-checks.c 16). */


#define HOP_SOURCE_TO_CLIENT      "source\xe2\x86\x92" "client"
#define HOP_CLIENT_TO_DESTINATION "client\xe2\x86\x92" "destination"

typedef enum {
    ROLE_NONE,
    ROLE_SOURCE,
    ROLE_DESTINATION
} role_t;

typedef struct {
    address addr;
    guint32 port;
} endpoint_t;

/* One channel's body in one migration: the source copy until the forwarded
 * copy is compared with it, then only the outcome. */
typedef struct {
    guint8   channel_type;
    guint8   channel_id;
    guint32  need_data_frame;    /* MIGRATE with NEED_DATA_TRANSFER on the source */
    guint32  src_frame;
    guint32  dst_frame;
    guint8  *src_copy;           /* file scope, freed once compared */
    guint32  src_len;            /* bytes in the copy */
    guint32  src_reported_len;   /* the body's length (more when the capture cut it) */
    guint32  never_sent_frame;   /* where the source showed it will not send the body */
    guint32  missing_frame;      /* where the client showed it will not forward it */
    gboolean modified;
    guint32  first_difference;   /* body offset, when modified ... */
    const char *first_difference_field; /* ... the field there ... */
    gboolean values_known;       /* ... and, for a field of 1 to 8 bytes both copies hold, */
    guint64  src_value, dst_value; /* its value in each */
} forward_t;

struct spicemig_migration {
    guint32     id;                  /* 1, 2, ... in capture order */
    guint32     session_id;
    guint32     new_session_id;      /* the session the client got by relinking after switch-host */
    guint32     begin_frame;
    nstime_t    begin_time;
    spicemig_outcome_t outcome;
    guint32     ack_frame;
    guint32     src_version, dst_do_version;
    gboolean    src_known, dst_known;
    endpoint_t  src, dst;            /* dst: the endpoint seen, else the one MIGRATE_BEGIN names */
    guint32     migrate_frame;       /* switch-over: first MIGRATE from the source, or its MIGRATE_END */
    nstime_t    migrate_time;
    guint32     last_forward_frame;  /* last body the client forwarded */
    nstime_t    last_forward_time;
    spicemig_analysis_conn_t *src_display; /* the source's display channel */
    guint32     first_dst_drawing_frame;
    nstime_t    first_dst_drawing_time;
    wmem_map_t *forwards;            /* channel key -> forward_t */
    guint32     bodies_sent, bodies_forwarded, bodies_modified, bodies_unmatched;
    forward_t  *unsent;              /* the first body MIGRATE asked for that the source showed it will not send */
    gboolean    unsent_watched;      /* ... counted in unsent_migrations until the migration fails */
    endpoint_t  switch_host_target;  /* what MIGRATE_SWITCH_HOST names, once it has */
};

typedef struct {
    guint32 id;
    spicemig_migration_t *first_migration;
    spicemig_migration_t *current_migration;  /* the last one begun (first pass) */
    spicemig_analysis_conn_t *drawing_display; /* the display channel that drew last */
} session_t;

struct spicemig_analysis_conn {
    session_t  *session;
    endpoint_t  server;
    guint8      channel_type;
    guint8      channel_id;
    role_t      claimed_role;     /* without a link message: from the first migration message */
    gboolean    closed;           /* TCP saw it close (first pass) */
    guint32     closed_frame;     /* ... in this frame, where it failed or settled ... */
    spicemig_migration_t *closed_migration;  /* ... this migration */
    forward_t  *awaiting_body;    /* source: MIGRATE asked for this channel's body, not sent yet */
    forward_t  *never_sent;       /* ... and the source showed it will not come */
    gboolean    forward_settled;  /* destination: the client's first message after the source's body came */
    forward_t  *missing;          /* ... and it was not the forwarded body */
    spicemig_migration_t *src_of; /* the migration this connection's server is the source of */
    guint32     src_from_frame;   /* ... from this frame on (it may be a destination before) */
    spicemig_migration_t *dst_of; /* ... the destination of */
    guint32     last_drawing_frame;
    nstime_t    last_drawing_time;
    guint32     display_init_frame;  /* the client's DISPLAY_INIT, 0 if none */
    guint8      display_init_cache_id, display_init_glz_id;
    gint64      display_init_cache_size;
    gint32      display_init_glz_window;
};

static int hf_session_id = -1;
static int hf_role = -1;
static int hf_hop = -1;
static int hf_forwarded_from = -1;
static int hf_forward_identical = -1;
static int hf_milestone = -1;
static int hf_forwarded_in = -1;
static int hf_forward_missing_in = -1;
static int hf_migration_id = -1;
static int hf_migration_session_id = -1;
static int hf_migration_new_session_id = -1;
static int hf_migration_relink = -1;
static int hf_migration_begin = -1;
static int hf_migration_source = -1;
static int hf_migration_destination = -1;
static int hf_time_begin_to_migrate = -1;
static int hf_time_migrate_to_forwarded = -1;
static int hf_time_display_gap = -1;
static int hf_dst_verdict = -1;
static int hf_dst_verdict_reason = -1;

static gint ett_migration = -1;

static int spicemig_tap = -1;

static const true_false_string tfs_identical_modified = { "Identical", "Modified" };

static expert_field ei_forward_modified = EI_INIT;
static expert_field ei_forward_missing = EI_INIT;
static expert_field ei_forward_unmatched = EI_INIT;
static expert_field ei_step_begin = EI_INIT;
static expert_field ei_step_dst_answer = EI_INIT;
static expert_field ei_step_connected = EI_INIT;
static expert_field ei_step_switch_over = EI_INIT;
static expert_field ei_step_forwarded = EI_INIT;
static expert_field ei_step_resumed = EI_INIT;
static expert_field ei_step_end = EI_INIT;
static expert_field ei_display_init_mismatch = EI_INIT;
static expert_field ei_version_mismatch = EI_INIT;
static expert_field ei_body_without_ack = EI_INIT;
static expert_field ei_body_never_sent = EI_INIT;

/* session id -> session_t, file scope */
static wmem_map_t *sessions;
/* A server's channel whose plain link it refused with NEED_SECURED: the
 * client links it again on the server's TLS port. */
typedef struct {
    address addr;
    guint8  channel_type;
} secured_retry_key_t;
/* secured_retry_key_t -> the refused plain endpoint_t, until the retry links, file scope */
static wmem_map_t *secured_retries;
/* endpoint_t a MIGRATE_SWITCH_HOST names -> its migration, until the client relinks there */
static wmem_map_t *switch_host_targets;
/* every migration, in capture order, for the statistics */
static wmem_array_t *migrations;
/* the migration of the connections without a session, see sessionless_migration() */
static spicemig_migration_t *sessionless;
/* migrations whose outcome no event has decided yet (first pass) */
static guint32 undecided_migrations;
/* source connections whose MIGRATE asked for a body not sent yet, and
 * migrations with a body the source will not send (first pass): the
 * source's closing fails such a migration even when other bodies already
 * went through, so closes are watched while there are any */
static guint32 awaited_bodies;
static guint32 unsent_migrations;
/* frame -> the connection whose closing in it failed a migration or left a
 * body never sent, file scope */
static wmem_map_t *close_frames;

static void
analysis_init(void)
{
    migrations = wmem_array_new(wmem_file_scope(), sizeof(spicemig_migration_t *));
    sessionless = NULL;
    undecided_migrations = 0;
    awaited_bodies = 0;
    unsent_migrations = 0;
}

/* The source connection's awaited body came, or will not come. */
static forward_t *
stop_awaiting(spicemig_analysis_conn_t *conn)
{
    forward_t *forward = conn->awaiting_body;

    if (forward) {
        conn->awaiting_body = NULL;
        awaited_bodies--;
    }
    return forward;
}

/* The body conn awaited will not come (first pass): the source sent
 * something else or closed (by_source), or the client closed first. */
static void
body_never_sent(spicemig_analysis_conn_t *conn, packet_info *pinfo, gboolean by_source)
{
    conn->never_sent = stop_awaiting(conn);
    conn->never_sent->never_sent_frame = pinfo->num;
    if (by_source && conn->src_of && !conn->src_of->unsent) {
        conn->src_of->unsent = conn->never_sent;
        if (conn->src_of->outcome.result != SPICEMIG_OUTCOME_FAILED) {
            conn->src_of->unsent_watched = TRUE;
            unsent_migrations++;
        }
    }
}

static gboolean
endpoint_equal(const endpoint_t *a, const endpoint_t *b)
{
    return a->port == b->port && addresses_equal(&a->addr, &b->addr);
}

static void
endpoint_set(endpoint_t *endpoint, const address *addr, guint32 port)
{
    copy_address_wmem(wmem_file_scope(), &endpoint->addr, addr);
    endpoint->port = port;
}

static const char *
endpoint_text(wmem_allocator_t *scope, const endpoint_t *endpoint)
{
    const char *addr = address_to_str(scope, &endpoint->addr);

    if (endpoint->addr.type == AT_IPv6)
        return wmem_strdup_printf(scope, "[%s]:%u", addr, endpoint->port);
    return wmem_strdup_printf(scope, "%s:%u", addr, endpoint->port);
}

static session_t *
find_or_add_session(guint32 id)
{
    session_t *session = (session_t *)wmem_map_lookup(sessions, GUINT_TO_POINTER(id));

    if (!session) {
        session = wmem_new0(wmem_file_scope(), session_t);
        session->id = id;
        wmem_map_insert(sessions, GUINT_TO_POINTER(id), session);
    }
    return session;
}

static spicemig_migration_t *
new_migration(session_t *session, packet_info *pinfo)
{
    spicemig_migration_t *migration = wmem_new0(wmem_file_scope(), spicemig_migration_t);

    migration->id = wmem_array_get_count(migrations) + 1;
    migration->session_id = session ? session->id : 0;
    migration->begin_frame = pinfo->num;
    migration->begin_time = pinfo->abs_ts;
    migration->forwards = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
    wmem_array_append_one(migrations, migration);
    undecided_migrations++;
    if (session) {
        if (!session->first_migration)
            session->first_migration = migration;
        session->current_migration = migration;
    }
    return migration;
}

static const char *
destination_text(const spicemig_migration_t *migration)
{
    return migration->dst.addr.type != AT_NONE ? endpoint_text(wmem_file_scope(), &migration->dst) : "(not named)";
}

static void
outcome_event_value(spicemig_migration_t *migration, spicemig_outcome_event_t event, packet_info *pinfo,
                    guint32 value)
{
    gboolean undecided = migration->outcome.result == SPICEMIG_OUTCOME_UNKNOWN;

    spicemig_outcome_event(&migration->outcome, event, pinfo, destination_text(migration), value);
    if (undecided && migration->outcome.result != SPICEMIG_OUTCOME_UNKNOWN)
        undecided_migrations--;
}

static void
outcome_event(spicemig_migration_t *migration, spicemig_outcome_event_t event, packet_info *pinfo)
{
    outcome_event_value(migration, event, pinfo, 0);
}

static guint
endpoint_hash(gconstpointer key)
{
    const endpoint_t *endpoint = (const endpoint_t *)key;

    return add_address_to_hash(endpoint->port, &endpoint->addr);
}

static gboolean
endpoint_key_equal(gconstpointer a, gconstpointer b)
{
    return endpoint_equal((const endpoint_t *)a, (const endpoint_t *)b);
}

static spicemig_analysis_conn_t *
new_conn(const address *server_addr, guint32 server_port, guint8 channel_type, guint8 channel_id)
{
    spicemig_analysis_conn_t *conn = wmem_new0(wmem_file_scope(), spicemig_analysis_conn_t);

    endpoint_set(&conn->server, server_addr, server_port);
    conn->channel_type = channel_type;
    conn->channel_id = channel_id;
    return conn;
}

static guint
secured_retry_hash(gconstpointer key)
{
    const secured_retry_key_t *retry = (const secured_retry_key_t *)key;

    return add_address_to_hash(retry->channel_type, &retry->addr);
}

static gboolean
secured_retry_equal(gconstpointer a, gconstpointer b)
{
    const secured_retry_key_t *ra = (const secured_retry_key_t *)a, *rb = (const secured_retry_key_t *)b;

    return ra->channel_type == rb->channel_type && addresses_equal(&ra->addr, &rb->addr);
}

/* A link on a server's TLS port that retries one refused with NEED_SECURED
 * on its plain port: the same server, known by its plain endpoint, so that
 * a server's plain and TLS channels make one source or one destination. */
static void
take_plain_endpoint(spicemig_analysis_conn_t *conn)
{
    secured_retry_key_t key = { conn->server.addr, conn->channel_type };
    endpoint_t *plain;

    if (wmem_map_size(secured_retries) == 0
        || !(plain = (endpoint_t *)wmem_map_remove(secured_retries, &key)) || plain->port == conn->server.port)
        return;
    conn->server.port = plain->port;
}

void
spicemig_analysis_link(spicemig_analysis_conn_t **analysis, packet_info *pinfo, guint32 connection_id,
                       guint8 channel_type, guint8 channel_id, const address *server_addr, guint32 server_port)
{
    spicemig_analysis_conn_t *conn;
    spicemig_migration_t *migration;

    if (*analysis)
        return;
    conn = *analysis = new_conn(server_addr, server_port, channel_type, channel_id);
    take_plain_endpoint(conn);
    /* The first main link of a session has connection id 0; its session id
     * comes with MAIN_INIT. So has the client's link to the host a
     * MIGRATE_SWITCH_HOST named: it joins that migration as its destination. */
    if (connection_id == 0) {
        if (channel_type == SPICE_CHANNEL_MAIN
            && (migration = (spicemig_migration_t *)wmem_map_remove(switch_host_targets, &conn->server))) {
            migration->dst = conn->server;
            migration->dst_known = TRUE;
            conn->dst_of = migration;
            outcome_event(migration, SPICEMIG_EVENT_RELINKED, pinfo);
        }
        return;
    }
    conn->session = find_or_add_session(connection_id);
    migration = conn->session->current_migration;

    if (channel_type == SPICE_CHANNEL_MAIN) {
        /* A main link that names a session is the client joining a
         * migration's destination; in a capture of the destination only,
         * the migration is known from here on. */
        if (!migration || (migration->dst_known && !endpoint_equal(&migration->dst, &conn->server))
            || (migration->src_known && endpoint_equal(&migration->src, &conn->server)))
            migration = new_migration(conn->session, pinfo);
        migration->dst = conn->server;
        migration->dst_known = TRUE;
        conn->dst_of = migration;
        return;
    }
    if (migration && migration->dst_known && endpoint_equal(&migration->dst, &conn->server))
        conn->dst_of = migration;
}

/* ---- the "spicemig" tap: the arrows of the Flow Graph ---- */

/* An arrow between the client and the server that is `server` in
 * `migration`, in the frame's direction. */
static spicemig_tap_t *
new_arrow(packet_info *pinfo, const spicemig_migration_t *migration, spicemig_party_t server, gboolean from_server,
          const char *channel, const char *label, const char *comment)
{
    spicemig_tap_t *record = wmem_new0(pinfo->pool, spicemig_tap_t);

    record->migration = migration;
    record->sender = from_server ? server : SPICEMIG_PARTY_CLIENT;
    record->receiver = from_server ? SPICEMIG_PARTY_CLIENT : server;
    record->channel = channel;
    record->label = label;
    record->comment = comment;
    return record;
}

static void
queue_arrow(packet_info *pinfo, const spicemig_migration_t *migration, spicemig_party_t server, gboolean from_server,
            const char *channel, const char *label, const char *comment)
{
    tap_queue_packet(spicemig_tap, pinfo, new_arrow(pinfo, migration, server, from_server, channel, label, comment));
}

/* The failures and setbacks `migration` shows on this frame, each an arrow. */
static void
queue_outcome_problems(packet_info *pinfo, const spicemig_migration_t *migration, spicemig_party_t server,
                       gboolean from_server)
{
    spicemig_outcome_problem_t problems[SPICEMIG_OUTCOME_MAX_PROBLEMS];
    guint count, i;

    if (!have_tap_listener(spicemig_tap))
        return;
    count = spicemig_outcome_problems(&migration->outcome, migration->id, pinfo, problems);
    for (i = 0; i < count; i++)
        queue_arrow(pinfo, migration, server, from_server, NULL, problems[i].label, problems[i].text);
}

/* Whether a frame of the connection comes from its server (not for a TLS
 * link that took its plain port's endpoint, see take_plain_endpoint()). */
static gboolean
from_server(const spicemig_analysis_conn_t *conn, const packet_info *pinfo)
{
    return pinfo->srcport == conn->server.port && addresses_equal(&pinfo->src, &conn->server.addr);
}

void
spicemig_analysis_tap_link(const spicemig_analysis_conn_t *conn, packet_info *pinfo)
{
    if (conn && conn->dst_of && have_tap_listener(spicemig_tap))
        queue_arrow(pinfo, conn->dst_of, SPICEMIG_PARTY_DESTINATION, FALSE, spicemig_channel_name(conn->channel_type),
                    "LINK_MESS", NULL);
}

/* Display messages that change what the user sees. */
static gboolean
is_drawing(guint16 type)
{
    return (type >= SPICE_MSG_DISPLAY_DRAW_FILL && type <= SPICE_MSG_DISPLAY_DRAW_ALPHA_BLEND)
        || type == SPICE_MSG_DISPLAY_COPY_BITS || type == SPICE_MSG_DISPLAY_STREAM_DATA
        || type == SPICE_MSG_DISPLAY_STREAM_DATA_SIZED || type == SPICE_MSG_DISPLAY_DRAW_COMPOSITE
        || type == SPICE_MSG_DISPLAY_GL_DRAW;
}

static void
record_drawing(spicemig_analysis_conn_t *conn, packet_info *pinfo)
{
    spicemig_migration_t *migration = conn->dst_of;

    conn->last_drawing_frame = pinfo->num;
    conn->last_drawing_time = pinfo->abs_ts;
    if (conn->session)
        conn->session->drawing_display = conn;
    if (migration && !migration->first_dst_drawing_frame) {
        migration->first_dst_drawing_frame = pinfo->num;
        migration->first_dst_drawing_time = pinfo->abs_ts;
    }
}

static void
record_display_init(spicemig_analysis_conn_t *conn, tvbuff_t *body, packet_info *pinfo)
{
    if (tvb_reported_length(body) < DISPLAY_INIT_LEN || !tvb_bytes_exist(body, 0, DISPLAY_INIT_LEN))
        return;
    conn->display_init_frame = pinfo->num;
    conn->display_init_cache_id = spicemig_tvb_get_u8(body, DISPLAY_INIT_CACHE_ID_OFFSET);
    conn->display_init_cache_size = (gint64)tvb_get_letoh64(body, DISPLAY_INIT_CACHE_SIZE_OFFSET);
    conn->display_init_glz_id = spicemig_tvb_get_u8(body, DISPLAY_INIT_GLZ_ID_OFFSET);
    conn->display_init_glz_window = (gint32)tvb_get_letohl(body, DISPLAY_INIT_GLZ_WINDOW_OFFSET);
}

static void
add_resumed_milestone(proto_tree *tree, tvbuff_t *tvb, int offset, packet_info *pinfo,
                      const spicemig_migration_t *migration);
static forward_t *find_forward(const spicemig_migration_t *migration, guint8 channel_type, guint8 channel_id);

/* First pass: where a body that will never reach the destination becomes
 * known, on one pass as on two. spice-gtk forwards a body only when
 * MIGRATE_DATA is the very next message after MIGRATE on the source channel,
 * and sends it to the destination ahead of anything else on that channel. */
static void
settle_bodies(spicemig_analysis_conn_t *conn, packet_info *pinfo, const spicemig_msg_ctx_t *ctx, guint16 type)
{
    forward_t *forward;

    if (ctx->from_server) {
        if (conn->awaiting_body && type != SPICE_MSG_MIGRATE && type != SPICE_MSG_MIGRATE_DATA)
            body_never_sent(conn, pinfo, TRUE);
        return;
    }
    if (!conn->dst_of || conn->forward_settled || type == SPICE_MSGC_MIGRATE_DATA)
        return;
    forward = find_forward(conn->dst_of, ctx->channel_type, ctx->channel_id);
    if (!forward || !forward->src_frame)
        return;
    conn->forward_settled = TRUE;
    if (!forward->dst_frame) {
        forward->missing_frame = pinfo->num;
        conn->missing = forward;
    }
}

static void
add_body_problems(proto_tree *tree, tvbuff_t *tvb, int offset, packet_info *pinfo,
                  const spicemig_analysis_conn_t *conn, const spicemig_msg_ctx_t *ctx, guint16 type);

void
spicemig_analysis_follow_message(spicemig_analysis_conn_t *conn, tvbuff_t *tvb, int msg_offset, int msg_len, guint32 header_len,
               packet_info *pinfo, proto_tree *tree, const spicemig_msg_ctx_t *ctx, guint16 type)
{
    int body_offset = msg_offset + (int)header_len;

    /* Ordinary traffic leaves here: only three kinds of message matter. */
    if (!conn)
        return;
    if (!PINFO_FD_VISITED(pinfo) && (conn->awaiting_body || (conn->dst_of && !conn->forward_settled)))
        settle_bodies(conn, pinfo, ctx, type);
    if (conn->never_sent || conn->missing)
        add_body_problems(tree, tvb, msg_offset, pinfo, conn, ctx, type);
    if (PINFO_FD_VISITED(pinfo)) {
        if (conn->dst_of && pinfo->num == conn->dst_of->first_dst_drawing_frame
            && ctx->from_server && ctx->channel_type == SPICE_CHANNEL_DISPLAY)
            add_resumed_milestone(tree, tvb, msg_offset, pinfo, conn->dst_of);
        return;
    }
    if (ctx->from_server) {
        if (ctx->channel_type == SPICE_CHANNEL_DISPLAY && is_drawing(type)) {
            record_drawing(conn, pinfo);
            if (conn->dst_of && pinfo->num == conn->dst_of->first_dst_drawing_frame)
                add_resumed_milestone(tree, tvb, msg_offset, pinfo, conn->dst_of);
            return;
        }
        if (!(ctx->channel_type == SPICE_CHANNEL_MAIN && type == SPICE_MSG_MAIN_INIT) || conn->session)
            return;
        if (msg_len < (int)header_len + MAIN_INIT_SESSION_ID_OFFSET + 4
            || !tvb_bytes_exist(tvb, body_offset + MAIN_INIT_SESSION_ID_OFFSET, 4))
            return;
        conn->session = find_or_add_session(tvb_get_letohl(tvb, body_offset + MAIN_INIT_SESSION_ID_OFFSET));
        if (conn->dst_of && conn->dst_of->outcome.relink_frame) {
            /* The relinked client's other channels name the new session. */
            conn->session->current_migration = conn->dst_of;
            conn->dst_of->new_session_id = conn->session->id;
            outcome_event(conn->dst_of, SPICEMIG_EVENT_RELINK_INIT, pinfo);
        }
        return;
    }
    if (ctx->channel_type != SPICE_CHANNEL_DISPLAY || type != SPICE_MSGC_DISPLAY_INIT)
        return;
    record_display_init(conn, tvb_new_subset_length(tvb, body_offset, msg_len - (int)header_len), pinfo);
}

/* ---- roles ---- */

static role_t
conn_role(const spicemig_analysis_conn_t *conn, guint32 frame)
{
    if (!conn)
        return ROLE_NONE;
    /* A destination server can be the source of the next migration. */
    if (conn->src_of && (!conn->dst_of || frame >= conn->src_from_frame))
        return ROLE_SOURCE;
    if (conn->dst_of)
        return ROLE_DESTINATION;
    /* A channel that carried no migration message: its server's role. */
    if (conn->session && conn->session->first_migration && conn->session->first_migration->src_known
        && endpoint_equal(&conn->session->first_migration->src, &conn->server))
        return ROLE_SOURCE;
    return conn->claimed_role;
}

static const char *
role_name(role_t role)
{
    return role == ROLE_SOURCE ? "source" : role == ROLE_DESTINATION ? "destination" : NULL;
}

void
spicemig_analysis_connection_items(proto_tree *tree, tvbuff_t *tvb, packet_info *pinfo,
                                   const spicemig_analysis_conn_t *conn)
{
    const char *role = role_name(conn_role(conn, pinfo->num));
    proto_item *item;

    if (!conn)
        return;
    if (conn->session) {
        item = proto_tree_add_uint(tree, hf_session_id, tvb, 0, 0, conn->session->id);
        proto_item_set_generated(item);
    }
    if (role) {
        item = proto_tree_add_string(tree, hf_role, tvb, 0, 0, role);
        proto_item_set_generated(item);
    }
}

/* ---- bodies ---- */

typedef struct {
    guint32     offset;
    guint32     size;
    const char *field;
} body_field_t;

/* A member of body structure `type` whose field is `prefix` + its path. */
#define FIELD(type, prefix, member) \
    { SPICEMIG_MD_OFFSET(type, member), SPICEMIG_MD_SIZEOF(type, member), prefix #member }
#define CHARDEV_FIELD(type, base, member) \
    { SPICEMIG_MD_OFFSET(type, base.member), SPICEMIG_MD_SIZEOF(type, base.member), "spicemig.chardev." #member }
#define CHARDEV_FIELDS(type, base) \
    CHARDEV_FIELD(type, base, version), CHARDEV_FIELD(type, base, connected), \
    CHARDEV_FIELD(type, base, num_client_tokens), CHARDEV_FIELD(type, base, num_send_tokens), \
    CHARDEV_FIELD(type, base, write_size), CHARDEV_FIELD(type, base, write_num_client_tokens), \
    CHARDEV_FIELD(type, base, write_data_ptr)
#define DISPLAY_FIELD(member, field) \
    { SPICEMIG_MD_OFFSET(spicemig_md_display_t, member), SPICEMIG_MD_SIZEOF(spicemig_md_display_t, member), \
      "spicemig.display." field }

static const body_field_t header_fields[] = {
    { offsetof(spicemig_md_header_t, magic),   4, "spicemig.magic" },
    { offsetof(spicemig_md_header_t, version), 4, "spicemig.version" },
    { 0, 0, NULL }
};
static const body_field_t display_fields[] = {
    DISPLAY_FIELD(message_serial,             "message_serial"),
    DISPLAY_FIELD(low_bandwidth_setting,      "low_bandwidth"),
    DISPLAY_FIELD(pixmap_cache_id,            "pixmap_cache.id"),
    DISPLAY_FIELD(pixmap_cache_size,          "pixmap_cache.size"),
    DISPLAY_FIELD(pixmap_cache_freezer,       "pixmap_cache.freezer"),
    DISPLAY_FIELD(pixmap_cache_clients,       "pixmap_cache.client"),
    DISPLAY_FIELD(glz_dict_id,                "glz_dict.id"),
    DISPLAY_FIELD(glz_dict_data.size,         "glz_dict.size"),
    DISPLAY_FIELD(glz_dict_data.max_encoders, "glz_dict.max_encoders"),
    DISPLAY_FIELD(glz_dict_data.last_image_id, "glz_dict.last_image_id"),
    DISPLAY_FIELD(surfaces_at_client_ptr,     "surfaces_ptr"),
    { 0, 0, NULL }
};
static const body_field_t inputs_fields[] = {
    FIELD(spicemig_md_inputs_t, "spicemig.inputs.", motion_count),
    { 0, 0, NULL }
};
static const body_field_t main_fields[] = {
    CHARDEV_FIELDS(spicemig_md_main_t, agent_base),
    FIELD(spicemig_md_main_t, "spicemig.main.", client_agent_started),
    FIELD(spicemig_md_main_t, "spicemig.main.", agent2client.chunk_header_size),
    FIELD(spicemig_md_main_t, "spicemig.main.", agent2client.chunk_header.port),
    FIELD(spicemig_md_main_t, "spicemig.main.", agent2client.chunk_header.size),
    FIELD(spicemig_md_main_t, "spicemig.main.", agent2client.msg_header_done),
    FIELD(spicemig_md_main_t, "spicemig.main.", agent2client.msg_header_partial_len),
    FIELD(spicemig_md_main_t, "spicemig.main.", agent2client.msg_header_ptr),
    FIELD(spicemig_md_main_t, "spicemig.main.", agent2client.msg_remaining),
    FIELD(spicemig_md_main_t, "spicemig.main.", agent2client.msg_filter_result),
    FIELD(spicemig_md_main_t, "spicemig.main.", client2agent.msg_remaining),
    FIELD(spicemig_md_main_t, "spicemig.main.", client2agent.msg_filter_result),
    { 0, 0, NULL }
};
static const body_field_t smartcard_fields[] = {
    CHARDEV_FIELDS(spicemig_md_smartcard_t, base),
    FIELD(spicemig_md_smartcard_t, "spicemig.smartcard.", reader_added),
    FIELD(spicemig_md_smartcard_t, "spicemig.smartcard.", read_size),
    FIELD(spicemig_md_smartcard_t, "spicemig.smartcard.", read_data_ptr),
    { 0, 0, NULL }
};
static const body_field_t spicevmc_fields[] = {
    CHARDEV_FIELDS(spicemig_md_spicevmc_t, base),
    { 0, 0, NULL }
};

static guint32
magic_value(const char *magic)
{
    return (guint32)(guint8)magic[0] | (guint32)(guint8)magic[1] << 8
        | (guint32)(guint8)magic[2] << 16 | (guint32)(guint8)magic[3] << 24;
}

static const body_field_t *
field_in(const body_field_t *fields, guint32 offset)
{
    for (; fields->field; fields++) {
        if (offset >= fields->offset && offset < fields->offset + fields->size)
            return fields;
    }
    return NULL;
}

/* In a display body, the surfaces list its pointer leads to. */
static gboolean
surfaces_field_at(const guint8 *bytes, guint32 len, guint32 offset, body_field_t *found)
{
    guint32 ptr_offset = SPICEMIG_MD_OFFSET(spicemig_md_display_t, surfaces_at_client_ptr);
    guint32 ptr, count, entry, entry_start;

    if (len < ptr_offset + 4)
        return FALSE;
    ptr = spicemig_pletohu32(bytes + ptr_offset);
    if (ptr < SPICEMIG_MD_FIXED_PART_END(spicemig_md_display_t) || offset < ptr || ptr > len - 4)
        return FALSE;
    if (offset < ptr + 4) {
        *found = (body_field_t){ ptr, 4, "spicemig.display.surfaces.count" };
        return TRUE;
    }
    count = spicemig_pletohu32(bytes + ptr);
    /* Lossy entries when the list runs to the end at their size. */
    entry = (guint64)count * sizeof(spicemig_md_surface_lossy_t) == len - ptr - 4
        ? sizeof(spicemig_md_surface_lossy_t) : sizeof(spicemig_md_surface_lossless_t);
    entry_start = offset - (offset - ptr - 4) % entry;
    if (offset - entry_start < 4)
        *found = (body_field_t){ entry_start, 4, "spicemig.display.surface.id" };
    else
        *found = (body_field_t){ entry_start + 4, entry - 4, "spicemig.display.surface.lossy_rect" };
    return TRUE;
}

/* The field at body offset `offset` of a body (its source copy, `len`
 * bytes); size 0 for the data after the fixed part. */
static body_field_t
body_field_at(const guint8 *bytes, guint32 len, guint32 offset)
{
    static const body_field_t after_fixed_part = { 0, 0, NULL };
    guint32 magic = len >= 4 ? spicemig_pletohu32(bytes) : 0;
    const body_field_t *fields = NULL;
    const body_field_t *field = field_in(header_fields, offset);
    body_field_t surfaces_field;

    if (field)
        return *field;
    if (magic == magic_value(SPICEMIG_MIGRATE_DATA_DISPLAY_MAGIC)
        && surfaces_field_at(bytes, len, offset, &surfaces_field))
        return surfaces_field;
    if (magic == magic_value(SPICEMIG_MIGRATE_DATA_DISPLAY_MAGIC))
        fields = display_fields;
    else if (magic == magic_value(SPICEMIG_MIGRATE_DATA_INPUTS_MAGIC))
        fields = inputs_fields;
    else if (magic == magic_value(SPICEMIG_MIGRATE_DATA_MAIN_MAGIC))
        fields = main_fields;
    else if (magic == magic_value(SPICEMIG_MIGRATE_DATA_SMARTCARD_MAGIC))
        fields = smartcard_fields;
    else if (magic == magic_value(SPICEMIG_MIGRATE_DATA_SPICEVMC_MAGIC))
        fields = spicevmc_fields;
    field = fields ? field_in(fields, offset) : NULL;
    return field ? *field : after_fixed_part;
}

/* A little-endian field of 1 to 8 bytes that `len` bytes hold. */
static gboolean
field_value(const guint8 *bytes, guint32 len, const body_field_t *field, guint64 *value)
{
    guint32 i;

    if (field->size == 0 || field->size > 8 || field->offset + field->size > len)
        return FALSE;
    *value = 0;
    for (i = field->size; i > 0; i--)
        *value = *value << 8 | bytes[field->offset + i - 1];
    return TRUE;
}

/* The label of the field where a modified copy first differs. */
static const char *
difference_label(const forward_t *forward)
{
    header_field_info *hfinfo = forward->first_difference_field
        ? proto_registrar_get_byname(forward->first_difference_field) : NULL;

    return hfinfo ? hfinfo->name : "the data after the fixed part";
}

/* "GLZ window size: 6290432 at the source, 6290433 forwarded", or the
 * field's label alone. */
static const char *
first_difference_text(wmem_allocator_t *scope, const forward_t *forward)
{
    const char *label = difference_label(forward);

    if (!forward->values_known)
        return label;
    return wmem_strdup_printf(scope, "%s: %" PRIu64 " at the source, %" PRIu64 " forwarded", label,
                              forward->src_value, forward->dst_value);
}

static forward_t *
find_or_add_forward(spicemig_migration_t *migration, guint8 channel_type, guint8 channel_id)
{
    gpointer key = GUINT_TO_POINTER((guint)channel_type << 8 | channel_id);
    forward_t *forward = (forward_t *)wmem_map_lookup(migration->forwards, key);

    if (!forward) {
        forward = wmem_new0(wmem_file_scope(), forward_t);
        forward->channel_type = channel_type;
        forward->channel_id = channel_id;
        wmem_map_insert(migration->forwards, key, forward);
    }
    return forward;
}

static forward_t *
find_forward(const spicemig_migration_t *migration, guint8 channel_type, guint8 channel_id)
{
    return (forward_t *)wmem_map_lookup(migration->forwards,
                                        GUINT_TO_POINTER((guint)channel_type << 8 | channel_id));
}

/* First pass, the source's body: keep a copy until the forwarded one comes. */
static void
record_source_body(spicemig_migration_t *migration, forward_t *forward, tvbuff_t *body, packet_info *pinfo)
{
    if (forward->src_frame)
        return;
    forward->src_frame = pinfo->num;
    forward->src_len = tvb_captured_length(body);
    forward->src_reported_len = tvb_reported_length(body);
    forward->src_copy = (guint8 *)tvb_memdup(wmem_file_scope(), body, 0, forward->src_len);
    migration->bodies_sent++;
}

/* First pass, the forwarded body: compare it byte by byte with the source's. */
static void
record_forwarded_body(spicemig_migration_t *migration, forward_t *forward, tvbuff_t *body, packet_info *pinfo)
{
    guint32 len = tvb_captured_length(body);
    const guint8 *bytes;
    guint32 i, common;

    if (forward->dst_frame)
        return;
    forward->dst_frame = pinfo->num;
    migration->last_forward_frame = pinfo->num;
    migration->last_forward_time = pinfo->abs_ts;
    if (!forward->src_frame) {
        migration->bodies_unmatched++;
        return;
    }
    migration->bodies_forwarded++;
    outcome_event(migration, SPICEMIG_EVENT_BODY_FORWARDED, pinfo);
    bytes = tvb_get_ptr(body, 0, len);
    common = MIN(len, forward->src_len);
    for (i = 0; i < common && bytes[i] == forward->src_copy[i]; i++)
        ;
    /* Bytes the capture cut off either copy cannot be compared. */
    if (i < common || tvb_reported_length(body) != forward->src_reported_len) {
        body_field_t field = body_field_at(forward->src_copy, forward->src_len, i);

        forward->modified = TRUE;
        forward->first_difference = i;
        forward->first_difference_field = field.field;
        forward->values_known = field_value(forward->src_copy, forward->src_len, &field, &forward->src_value)
                                && field_value(bytes, len, &field, &forward->dst_value);
        migration->bodies_modified++;
    }
    wmem_free(wmem_file_scope(), forward->src_copy);
    forward->src_copy = NULL;
}

/* ---- which migration a message belongs to ---- */

typedef enum {
    SIDE_SOURCE,       /* between the source and the client */
    SIDE_DESTINATION,  /* between the client and the destination */
    SIDE_EITHER        /* DISCONNECTING, WAIT_FOR_CHANNELS: wherever the connection is */
} side_t;

static side_t
message_side(const spicemig_msg_ctx_t *ctx, guint16 type)
{
    if (type == SPICE_MSG_DISCONNECTING || (ctx->from_server && type == SPICE_MSG_WAIT_FOR_CHANNELS))
        return SIDE_EITHER;
    if (ctx->from_server)
        return ctx->channel_type == SPICE_CHANNEL_MAIN
               && (type == SPICE_MSG_MAIN_MIGRATE_DST_SEAMLESS_ACK || type == SPICE_MSG_MAIN_MIGRATE_DST_SEAMLESS_NACK)
               ? SIDE_DESTINATION : SIDE_SOURCE;
    return type == SPICE_MSGC_MIGRATE_DATA
           || (ctx->channel_type == SPICE_CHANNEL_MAIN
               && (type == SPICE_MSGC_MAIN_MIGRATE_DST_DO_SEAMLESS || type == SPICE_MSGC_MAIN_MIGRATE_END))
           ? SIDE_DESTINATION : SIDE_SOURCE;
}

static gboolean
is_begin(const spicemig_msg_ctx_t *ctx, guint16 type)
{
    return ctx->from_server && ctx->channel_type == SPICE_CHANNEL_MAIN
        && (type == SPICE_MSG_MAIN_MIGRATE_BEGIN || type == SPICE_MSG_MAIN_MIGRATE_BEGIN_SEAMLESS
            || type == SPICE_MSG_MAIN_MIGRATE_SWITCH_HOST);
}

/* The migration of a connection without a session (no link message in the
 * capture); they all share one. */
static spicemig_migration_t *
sessionless_migration(packet_info *pinfo)
{
    if (!sessionless)
        sessionless = new_migration(NULL, pinfo);
    return sessionless;
}

/* First pass: the migration of a message, begun or joined here. */
static spicemig_migration_t *
assign_migration(spicemig_analysis_conn_t *conn, packet_info *pinfo, const spicemig_msg_ctx_t *ctx,
                 guint16 type)
{
    spicemig_migration_t *current;

    switch (message_side(ctx, type)) {
    case SIDE_EITHER:
        return conn->src_of ? conn->src_of : conn->dst_of;
    case SIDE_DESTINATION:
        if (!conn->dst_of) {
            current = conn->session ? conn->session->current_migration : NULL;
            if (!conn->session)
                current = sessionless_migration(pinfo);
            else if (!current)
                current = new_migration(conn->session, pinfo);
            if (!current->dst_known) {
                current->dst = conn->server;
                current->dst_known = TRUE;
            }
            conn->dst_of = current;
        }
        return conn->dst_of;
    case SIDE_SOURCE:
        break;
    }
    /* A MIGRATE_BEGIN after the previous migration's MIGRATE begins the next one. */
    if (conn->src_of && !(is_begin(ctx, type) && conn->src_of->migrate_frame))
        return conn->src_of;
    if (!conn->session) {
        current = sessionless_migration(pinfo);
    } else {
        current = conn->session->current_migration;
        /* Without MIGRATE_BEGIN in the capture (no main channel), the first
         * MIGRATE begins the migration. */
        if (!current || (is_begin(ctx, type) && current->src_known))
            current = new_migration(conn->session, pinfo);
        else if (current->src_known && !endpoint_equal(&current->src, &conn->server))
            return NULL;
    }
    if (!current->src_known) {
        current->src = conn->server;
        current->src_known = TRUE;
    }
    conn->src_of = current;
    conn->src_from_frame = pinfo->num;
    return current;
}

/* The host and port a DstInfo (MIGRATE_BEGIN*, MIGRATE_SWITCH_HOST) names. */
static gboolean
named_endpoint(tvbuff_t *body, packet_info *pinfo, endpoint_t *endpoint)
{
    guint32 host_size, host_ptr;
    char *host;
    address addr;
    ws_in4_addr ipv4;
    ws_in6_addr ipv6;

    if (!tvb_bytes_exist(body, 0, DST_INFO_HOST_PTR_OFFSET + 4))
        return FALSE;
    host_size = tvb_get_letohl(body, DST_INFO_HOST_SIZE_OFFSET);
    host_ptr = tvb_get_letohl(body, DST_INFO_HOST_PTR_OFFSET);
    if (host_size == 0 || host_size > 256 || !tvb_bytes_exist(body, host_ptr, host_size))
        return FALSE;
    host = (char *)tvb_get_stringz_enc(pinfo->pool, body, host_ptr, NULL, ENC_ASCII);
    if (ws_inet_pton4(host, &ipv4))
        set_address(&addr, AT_IPv4, 4, &ipv4);
    else if (ws_inet_pton6(host, &ipv6))
        set_address(&addr, AT_IPv6, 16, &ipv6);
    else
        set_address(&addr, AT_STRINGZ, (int)strlen(host) + 1, host);
    endpoint_set(endpoint, &addr, tvb_get_letohs(body, DST_INFO_PORT_OFFSET));
    return TRUE;
}

/* MIGRATE_BEGIN*: the destination the source names, until it is seen (the
 * destination's own link decides). MIGRATE_SWITCH_HOST: where the client's
 * new main link will go. */
static void
record_named_destination(spicemig_migration_t *migration, tvbuff_t *body, packet_info *pinfo, gboolean switch_host)
{
    endpoint_t named;

    if (!named_endpoint(body, pinfo, &named))
        return;
    if (!migration->dst_known)
        migration->dst = named;
    if (switch_host && migration->switch_host_target.addr.type == AT_NONE) {
        migration->switch_host_target = named;
        wmem_map_insert(switch_host_targets, &migration->switch_host_target, migration);
    }
}

/* The switch-over: MIGRATE, MIGRATE_END or MIGRATE_SWITCH_HOST from the
 * source. The display gap counts from the source display's last drawing,
 * also where no MIGRATE names the display channel (semi-seamless, switch-host). */
static void
record_switch_over(spicemig_migration_t *migration, const spicemig_analysis_conn_t *conn, packet_info *pinfo)
{
    spicemig_analysis_conn_t *display = conn->session ? conn->session->drawing_display : NULL;

    if (!migration->migrate_frame) {
        migration->migrate_frame = pinfo->num;
        migration->migrate_time = pinfo->abs_ts;
    }
    if (!migration->src_display && display && display->dst_of != migration)
        migration->src_display = display;
}

static void
record_control(spicemig_migration_t *migration, spicemig_analysis_conn_t *conn, tvbuff_t *body,
               packet_info *pinfo, const spicemig_msg_ctx_t *ctx, guint16 type)
{
    guint32 len = tvb_captured_length(body);

    if (ctx->channel_type == SPICE_CHANNEL_MAIN && ctx->from_server) {
        switch (type) {
        case SPICE_MSG_MAIN_MIGRATE_BEGIN_SEAMLESS:
        case SPICE_MSG_MAIN_MIGRATE_BEGIN:
        case SPICE_MSG_MAIN_MIGRATE_SWITCH_HOST:
            if (type == SPICE_MSG_MAIN_MIGRATE_BEGIN_SEAMLESS && len >= BEGIN_SEAMLESS_VERSION_OFFSET + 4)
                migration->src_version = tvb_get_letohl(body, BEGIN_SEAMLESS_VERSION_OFFSET);
            record_named_destination(migration, body, pinfo, type == SPICE_MSG_MAIN_MIGRATE_SWITCH_HOST);
            outcome_event(migration, type == SPICE_MSG_MAIN_MIGRATE_BEGIN_SEAMLESS ? SPICEMIG_EVENT_BEGIN_SEAMLESS
                          : type == SPICE_MSG_MAIN_MIGRATE_BEGIN ? SPICEMIG_EVENT_BEGIN_SEMI_SEAMLESS
                          : SPICEMIG_EVENT_SWITCH_HOST, pinfo);
            if (type == SPICE_MSG_MAIN_MIGRATE_SWITCH_HOST)
                record_switch_over(migration, conn, pinfo);
            return;
        case SPICE_MSG_MAIN_MIGRATE_CANCEL:
            outcome_event(migration, SPICEMIG_EVENT_CANCEL, pinfo);
            return;
        case SPICE_MSG_MAIN_MIGRATE_END:
            record_switch_over(migration, conn, pinfo);
            outcome_event(migration, SPICEMIG_EVENT_SRC_END, pinfo);
            return;
        case SPICE_MSG_MAIN_MIGRATE_DST_SEAMLESS_ACK:
            if (!migration->ack_frame)
                migration->ack_frame = pinfo->num;
            return;
        case SPICE_MSG_MAIN_MIGRATE_DST_SEAMLESS_NACK:
            outcome_event(migration, SPICEMIG_EVENT_DST_NACK, pinfo);
            return;
        default:
            break;
        }
    }
    if (ctx->channel_type == SPICE_CHANNEL_MAIN && !ctx->from_server) {
        switch (type) {
        case SPICE_MSGC_MAIN_MIGRATE_CONNECT_ERROR:
            outcome_event(migration, SPICEMIG_EVENT_CONNECT_ERROR, pinfo);
            break;
        case SPICE_MSGC_MAIN_MIGRATE_CONNECTED:
        case SPICE_MSGC_MAIN_MIGRATE_CONNECTED_SEAMLESS:
            outcome_event(migration, SPICEMIG_EVENT_CONNECTED, pinfo);
            break;
        case SPICE_MSGC_MAIN_MIGRATE_END:
            outcome_event(migration, SPICEMIG_EVENT_CLIENT_END, pinfo);
            break;
        case SPICE_MSGC_MAIN_MIGRATE_DST_DO_SEAMLESS:
            if (len >= DST_DO_SEAMLESS_VERSION_OFFSET + 4)
                migration->dst_do_version = tvb_get_letohl(body, DST_DO_SEAMLESS_VERSION_OFFSET);
            break;
        default:
            break;
        }
        return;
    }
    if (ctx->from_server && type == SPICE_MSG_MIGRATE) {
        record_switch_over(migration, conn, pinfo);
        outcome_event(migration, SPICEMIG_EVENT_MIGRATE, pinfo);
        if (ctx->channel_type == SPICE_CHANNEL_DISPLAY)
            migration->src_display = conn;
        if (len >= MIGRATE_FLAGS_OFFSET + 4
            && (tvb_get_letohl(body, MIGRATE_FLAGS_OFFSET) & SPICE_MIGRATE_NEED_DATA_TRANSFER)) {
            if (!conn->awaiting_body)
                awaited_bodies++;
            conn->awaiting_body = find_or_add_forward(migration, ctx->channel_type, ctx->channel_id);
            conn->awaiting_body->need_data_frame = pinfo->num;
        }
    }
}

/* ---- what a message shows ---- */

static void
add_time(proto_tree *tree, tvbuff_t *tvb, int hf, const nstime_t *delta)
{
    proto_item *item = proto_tree_add_time(tree, hf, tvb, 0, 0, delta);

    proto_item_set_generated(item);
}

static gboolean
interval(nstime_t *delta, guint32 from_frame, const nstime_t *from, guint32 to_frame, const nstime_t *to)
{
    if (!from_frame || !to_frame)
        return FALSE;
    nstime_delta(delta, to, from);
    return TRUE;
}

static void
count_missing_body(gpointer key _U_, gpointer value, gpointer user_data)
{
    const forward_t *forward = (const forward_t *)value;
    spicemig_migration_info_t *info = (spicemig_migration_info_t *)user_data;

    if (forward->src_frame && !forward->dst_frame)
        info->bodies_missing++;
}

void
spicemig_migration_get_info(const spicemig_migration_t *migration, wmem_allocator_t *scope,
                            spicemig_migration_info_t *info)
{
    const spicemig_analysis_conn_t *src_display = migration->src_display;

    spicemig_outcome_info_t outcome;

    memset(info, 0, sizeof(*info));
    spicemig_outcome_get(&migration->outcome, scope, &outcome);
    info->id = migration->id;
    info->kind = outcome.kind;
    info->outcome = outcome.outcome;
    info->reason = outcome.reason;
    info->end_frame = outcome.end_frame;
    info->begin_to_end_known = outcome.end_frame == migration->outcome.end_frame
        && interval(&info->begin_to_end, migration->begin_frame, &migration->begin_time,
                    migration->outcome.end_frame, &migration->outcome.end_time);
    info->source = migration->src_known ? endpoint_text(scope, &migration->src) : NULL;
    info->destination = migration->dst.addr.type != AT_NONE ? endpoint_text(scope, &migration->dst) : NULL;
    info->begin_frame = migration->begin_frame;
    info->begin_to_migrate_known = migration->begin_frame != migration->migrate_frame
        && interval(&info->begin_to_migrate, migration->begin_frame, &migration->begin_time,
                    migration->migrate_frame, &migration->migrate_time);
    info->migrate_to_forwarded_known = interval(&info->migrate_to_forwarded, migration->migrate_frame,
                                                &migration->migrate_time, migration->last_forward_frame,
                                                &migration->last_forward_time);
    info->display_gap_known = src_display
        && interval(&info->display_gap, src_display->last_drawing_frame, &src_display->last_drawing_time,
                    migration->first_dst_drawing_frame, &migration->first_dst_drawing_time);
    info->bodies_sent = migration->bodies_sent;
    info->bodies_forwarded = migration->bodies_forwarded;
    info->bodies_modified = migration->bodies_modified;
    info->bodies_unmatched = migration->bodies_unmatched;
    /* Only a destination in the capture can miss a body. */
    if (migration->dst_known)
        wmem_map_foreach(migration->forwards, count_missing_body, info);
}

static void
add_migration_items(proto_tree *tree, tvbuff_t *tvb, packet_info *pinfo, const spicemig_migration_t *migration)
{
    spicemig_migration_info_t info;
    proto_tree *subtree;
    proto_item *item;

    spicemig_migration_get_info(migration, pinfo->pool, &info);
    item = proto_tree_add_uint(tree, hf_migration_id, tvb, 0, 0, info.id);
    proto_item_set_generated(item);
    proto_item_append_text(item, " (%s, %s)", info.kind, info.outcome);
    subtree = proto_item_add_subtree(item, ett_migration);
    spicemig_outcome_items(subtree, tvb, pinfo, &migration->outcome, migration->id, migration->begin_frame,
                           &migration->begin_time);
    if (migration->session_id)
        proto_item_set_generated(proto_tree_add_uint(subtree, hf_migration_session_id, tvb, 0, 0,
                                                     migration->session_id));
    if (migration->new_session_id)
        proto_item_set_generated(proto_tree_add_uint(subtree, hf_migration_new_session_id, tvb, 0, 0,
                                                     migration->new_session_id));
    if (migration->outcome.relink_frame && migration->outcome.relink_frame != pinfo->num)
        proto_item_set_generated(proto_tree_add_uint(subtree, hf_migration_relink, tvb, 0, 0,
                                                     migration->outcome.relink_frame));
    if (info.begin_frame != pinfo->num) {
        item = proto_tree_add_uint(subtree, hf_migration_begin, tvb, 0, 0, info.begin_frame);
        proto_item_set_generated(item);
    }
    if (info.source) {
        item = proto_tree_add_string(subtree, hf_migration_source, tvb, 0, 0, info.source);
        proto_item_set_generated(item);
    }
    if (info.destination) {
        item = proto_tree_add_string(subtree, hf_migration_destination, tvb, 0, 0, info.destination);
        proto_item_set_generated(item);
    }
    if (info.begin_to_migrate_known)
        add_time(subtree, tvb, hf_time_begin_to_migrate, &info.begin_to_migrate);
    if (info.migrate_to_forwarded_known)
        add_time(subtree, tvb, hf_time_migrate_to_forwarded, &info.migrate_to_forwarded);
    if (info.display_gap_known)
        add_time(subtree, tvb, hf_time_display_gap, &info.display_gap);
}

/* Whether the forwarded copy is identical, on both copies; a modified one
 * says where it first differs. */
static void
add_forward_comparison(proto_tree *tree, tvbuff_t *body, packet_info *pinfo, const forward_t *forward)
{
    proto_item *item = proto_tree_add_boolean(tree, hf_forward_identical, body, 0, 0, !forward->modified);

    proto_item_set_generated(item);
    if (forward->modified)
        proto_item_append_text(item, " from offset %u on: %s", forward->first_difference,
                               first_difference_text(pinfo->pool, forward));
}

static void
add_forward_items(proto_tree *tree, tvbuff_t *body, packet_info *pinfo, const spicemig_migration_t *migration,
                  const forward_t *forward, gboolean from_server)
{
    const char *channel = spicemig_channel_name(forward->channel_type);
    proto_item *item;

    if (from_server) {
        if (forward->dst_frame) {
            item = proto_tree_add_uint(tree, hf_forwarded_in, body, 0, 0, forward->dst_frame);
            proto_item_set_generated(item);
            add_forward_comparison(tree, body, pinfo, forward);
            if (forward->modified)
                spicemig_note_info_problem(pinfo, wmem_strdup_printf(pinfo->pool, "forwarded copy (frame %u) "
                                                                     "modified", forward->dst_frame));
        } else if (forward->missing_frame) {
            item = proto_tree_add_uint(tree, hf_forward_missing_in, body, 0, 0, forward->missing_frame);
            proto_item_set_generated(item);
            spicemig_note_info_problem(pinfo, "never forwarded");
        } else if (PINFO_FD_VISITED(pinfo) && migration->dst_known) {
            /* No later message on the destination's channel told: known only
             * once the whole capture has been read. */
            proto_tree_add_expert_format(tree, pinfo, &ei_forward_missing, body, 0, 0,
                                         "The client never forwarded this %s body to the destination %s",
                                         channel, endpoint_text(pinfo->pool, &migration->dst));
            spicemig_note_info_problem(pinfo, "never forwarded");
        }
        return;
    }
    if (!forward->src_frame) {
        proto_tree_add_expert_format(tree, pinfo, &ei_forward_unmatched, body, 0, 0,
                                     "No source copy of this %s body in the capture", channel);
        return;
    }
    item = proto_tree_add_uint(tree, hf_forwarded_from, body, 0, 0, forward->src_frame);
    proto_item_set_generated(item);
    add_forward_comparison(tree, body, pinfo, forward);
    if (forward->modified) {
        const char *difference = first_difference_text(pinfo->pool, forward);

        expert_add_info_format(pinfo, item, &ei_forward_modified,
                               "Forwarded body differs from the source's (frame %u) from offset %u on: %s",
                               forward->src_frame, forward->first_difference, difference);
        /* Short: the frame's item repeats the Info text, and items end at 240 characters. */
        spicemig_note_info_problem(pinfo, wmem_strdup_printf(pinfo->pool, "differs from frame %u: %s",
                                                             forward->src_frame, difference_label(forward)));
    }
}

/* ---- milestones, consistency checks, the destination's verdict ---- */

/* A step of migration `id`: an expert info of its own per kind of step, so
 * that the Expert dialog's grouped view lists the steps as a timeline, and
 * spicemig.milestone for them all. Returns the step's text. */
static const char *
add_step(proto_tree *tree, tvbuff_t *tvb, int offset, packet_info *pinfo, expert_field *step, guint32 id,
         const char *text)
{
    proto_item *item = proto_tree_add_item(tree, hf_milestone, tvb, offset, 0, ENC_NA);
    const char *milestone = wmem_strdup_printf(pinfo->pool, "Migration %u: %s", id, text);

    proto_item_set_hidden(item);
    proto_tree_add_expert_format(tree, pinfo, step, tvb, offset, 0, "%s", milestone);
    return milestone;
}

static void
add_resumed_milestone(proto_tree *tree, tvbuff_t *tvb, int offset, packet_info *pinfo,
                      const spicemig_migration_t *migration)
{
    spicemig_migration_info_t info;
    const char *text;

    /* Once per frame, however many drawing messages it holds. */
    if (p_get_proto_data(pinfo->pool, pinfo, proto_spicemig, SPICEMIG_KEY_RESUMED_SHOWN))
        return;
    p_add_proto_data(pinfo->pool, pinfo, proto_spicemig, SPICEMIG_KEY_RESUMED_SHOWN, GINT_TO_POINTER(1));
    spicemig_migration_get_info(migration, pinfo->pool, &info);
    text = add_step(tree, tvb, offset, pinfo, &ei_step_resumed, info.id,
                    info.display_gap_known
                    ? wmem_strdup_printf(pinfo->pool, "the destination resumed drawing, %s s after the source's "
                                         "last drawing", rel_time_to_secs_str(pinfo->pool, &info.display_gap))
                    : "the destination resumed drawing");
    if (have_tap_listener(spicemig_tap))
        queue_arrow(pinfo, migration, SPICEMIG_PARTY_DESTINATION, TRUE, spicemig_channel_name(SPICE_CHANNEL_DISPLAY),
                    "drawing", text);
}

static void
add_body_problems(proto_tree *tree, tvbuff_t *tvb, int offset, packet_info *pinfo,
                  const spicemig_analysis_conn_t *conn, const spicemig_msg_ctx_t *ctx, guint16 type)
{
    const forward_t *forward;
    const char *text;

    /* Once per frame, however many messages of the connection it holds. */
    if ((!conn->never_sent || conn->never_sent->never_sent_frame != pinfo->num)
        && (!conn->missing || conn->missing->missing_frame != pinfo->num))
        return;
    if (p_get_proto_data(pinfo->pool, pinfo, proto_spicemig, SPICEMIG_KEY_BODY_PROBLEM_SHOWN))
        return;
    p_add_proto_data(pinfo->pool, pinfo, proto_spicemig, SPICEMIG_KEY_BODY_PROBLEM_SHOWN, GINT_TO_POINTER(1));
    if ((forward = conn->never_sent) && forward->never_sent_frame == pinfo->num) {
        text = !type && !ctx->from_server
            ? wmem_strdup_printf(pinfo->pool, "MIGRATE (frame %u) asks for NEED_DATA_TRANSFER, but the client closes "
                                 "the connection to the source first on the %s channel, before its MIGRATE_DATA",
                                 forward->need_data_frame, spicemig_channel_name(forward->channel_type))
            : wmem_strdup_printf(pinfo->pool, "MIGRATE (frame %u) asks for NEED_DATA_TRANSFER, but the source %s on "
                                 "the %s channel, not its MIGRATE_DATA: the client forwards nothing",
                                 forward->need_data_frame,
                                 type ? wmem_strdup_printf(pinfo->pool, "sends %s next", spicemig_message_name(ctx, type))
                                      : "closes the connection next",
                                 spicemig_channel_name(forward->channel_type));
        proto_tree_add_expert_format(tree, pinfo, &ei_body_never_sent, tvb, offset, 0, "%s", text);
        if (have_tap_listener(spicemig_tap))
            queue_arrow(pinfo, conn->src_of, SPICEMIG_PARTY_SOURCE, ctx->from_server,
                        spicemig_channel_name(forward->channel_type), "body never sent", text);
    } else if ((forward = conn->missing)) {
        text = wmem_strdup_printf(pinfo->pool, "The client never forwarded the %s body (source frame %u) to the "
                                  "destination %s: its first message there is %s",
                                  spicemig_channel_name(forward->channel_type), forward->src_frame,
                                  endpoint_text(pinfo->pool, &conn->server), spicemig_message_name(ctx, type));
        proto_tree_add_expert_format(tree, pinfo, &ei_forward_missing, tvb, offset, 0, "%s", text);
        if (have_tap_listener(spicemig_tap))
            queue_arrow(pinfo, conn->dst_of, SPICEMIG_PARTY_DESTINATION, FALSE,
                        spicemig_channel_name(forward->channel_type), "body not forwarded", text);
    }
    spicemig_note_info_problem(pinfo, wmem_strdup_printf(pinfo->pool, "%s body never %s",
                                                         spicemig_channel_name(forward->channel_type),
                                                         forward == conn->missing ? "forwarded" : "sent"));
}

/* Returns the milestone's text, NULL for a message that is none. */
static const char *
add_milestone(proto_tree *tree, tvbuff_t *body, packet_info *pinfo, const spicemig_msg_ctx_t *ctx, guint16 type,
              const spicemig_migration_t *migration, const forward_t *forward)
{
    const char *channel = spicemig_channel_name(ctx->channel_type);
    spicemig_migration_info_t info;
    expert_field *step = NULL;
    const char *text = NULL;

    spicemig_migration_get_info(migration, pinfo->pool, &info);
    if (ctx->from_server && type == SPICE_MSG_MIGRATE) {
        step = &ei_step_switch_over;
        text = wmem_strdup_printf(pinfo->pool, "MIGRATE on the %s channel", channel);
    } else if (!ctx->from_server && type == SPICE_MSGC_MIGRATE_DATA) {
        step = &ei_step_forwarded;
        if (forward && forward->src_frame)
            text = wmem_strdup_printf(pinfo->pool, "%s body forwarded to the destination%s (source frame %u)",
                                      channel, forward->modified ? ", modified" : "", forward->src_frame);
    } else if (ctx->channel_type == SPICE_CHANNEL_MAIN && ctx->from_server) {
        switch (type) {
        case SPICE_MSG_MAIN_MIGRATE_BEGIN:
        case SPICE_MSG_MAIN_MIGRATE_BEGIN_SEAMLESS:
        case SPICE_MSG_MAIN_MIGRATE_SWITCH_HOST:
            step = &ei_step_begin;
            text = wmem_strdup_printf(pinfo->pool, "%s begins: %s to %s",
                                      type == SPICE_MSG_MAIN_MIGRATE_BEGIN_SEAMLESS ? "seamless migration"
                                      : type == SPICE_MSG_MAIN_MIGRATE_BEGIN ? "semi-seamless migration"
                                      : "switch-host migration",
                                      info.source ? info.source : "the source",
                                      info.destination ? info.destination : "?");
            break;
        case SPICE_MSG_MAIN_MIGRATE_DST_SEAMLESS_ACK:
            step = &ei_step_dst_answer;
            text = "the destination accepts the seamless migration";
            break;
        case SPICE_MSG_MAIN_MIGRATE_DST_SEAMLESS_NACK:
            step = &ei_step_dst_answer;
            text = "the destination refuses the seamless migration";
            break;
        case SPICE_MSG_MAIN_MIGRATE_CANCEL:
            step = &ei_step_end;
            text = "the source cancels the migration";
            break;
        case SPICE_MSG_MAIN_MIGRATE_END:
            step = &ei_step_end;
            text = "the source ends the migration";
            break;
        default:
            break;
        }
    } else if (ctx->channel_type == SPICE_CHANNEL_MAIN) {
        switch (type) {
        case SPICE_MSGC_MAIN_MIGRATE_CONNECTED:
        case SPICE_MSGC_MAIN_MIGRATE_CONNECTED_SEAMLESS:
            step = &ei_step_connected;
            text = "the client is connected to the destination";
            break;
        case SPICE_MSGC_MAIN_MIGRATE_CONNECT_ERROR:
            step = &ei_step_connected;
            text = "the client could not connect to the destination";
            break;
        default:
            break;
        }
    }
    return text ? add_step(tree, body, 0, pinfo, step, info.id, text) : NULL;
}

/* The source's display body against the client's DISPLAY_INIT on the same
 * connection: the destination restores the caches the body names. */
static void
check_display_init(proto_tree *tree, tvbuff_t *body, packet_info *pinfo, const spicemig_analysis_conn_t *conn)
{
    static const struct {
        guint32     offset;
        guint32     size;
        const char *what;
    } fields[] = {
        { SPICEMIG_MD_OFFSET(spicemig_md_display_t, pixmap_cache_id),    1, "pixmap cache id" },
        { SPICEMIG_MD_OFFSET(spicemig_md_display_t, pixmap_cache_size),  8, "pixmap cache size" },
        { SPICEMIG_MD_OFFSET(spicemig_md_display_t, glz_dict_id),        1, "GLZ dictionary id" },
        { SPICEMIG_MD_OFFSET(spicemig_md_display_t, glz_dict_data.size), 4, "GLZ dictionary window" },
    };
    gint64 sent[G_N_ELEMENTS(fields)];
    gint64 asked[G_N_ELEMENTS(fields)] = {
        conn->display_init_cache_id, conn->display_init_cache_size,
        conn->display_init_glz_id, conn->display_init_glz_window
    };
    guint i;

    if (!conn->display_init_frame
        || tvb_captured_length(body) < SPICEMIG_MD_FIXED_PART_END(spicemig_md_display_t)
        || tvb_get_letohl(body, 0) != magic_value(SPICEMIG_MIGRATE_DATA_DISPLAY_MAGIC))
        return;
    for (i = 0; i < G_N_ELEMENTS(fields); i++) {
        switch (fields[i].size) {
        case 1:  sent[i] = spicemig_tvb_get_u8(body, fields[i].offset); break;
        case 4:  sent[i] = (gint32)tvb_get_letohl(body, fields[i].offset); break;
        default: sent[i] = (gint64)tvb_get_letoh64(body, fields[i].offset); break;
        }
        if (sent[i] != asked[i])
            proto_tree_add_expert_format(tree, pinfo, &ei_display_init_mismatch, body, fields[i].offset,
                                         fields[i].size,
                                         "DCMD %s %" PRId64 " differs from the client's DISPLAY_INIT "
                                         "(%" PRId64 ", frame %u)", fields[i].what, sent[i], asked[i],
                                         conn->display_init_frame);
    }
}

static void
add_checks(proto_tree *tree, tvbuff_t *body, packet_info *pinfo, const spicemig_msg_ctx_t *ctx, guint16 type,
           const spicemig_analysis_conn_t *conn, const spicemig_migration_t *migration)
{
    const forward_t *forward;

    if (ctx->from_server && type == SPICE_MSG_MIGRATE_DATA && ctx->channel_type == SPICE_CHANNEL_DISPLAY) {
        check_display_init(tree, body, pinfo, conn);
    } else if (!ctx->from_server && type == SPICE_MSGC_MIGRATE_DATA) {
        if (migration->outcome.path == SPICEMIG_PATH_SEAMLESS && (!migration->ack_frame || migration->ack_frame > pinfo->num))
            proto_tree_add_expert(tree, pinfo, &ei_body_without_ack, body, 0, 0);
    } else if (!ctx->from_server && ctx->channel_type == SPICE_CHANNEL_MAIN
               && type == SPICE_MSGC_MAIN_MIGRATE_DST_DO_SEAMLESS) {
        if (migration->outcome.path == SPICEMIG_PATH_SEAMLESS && migration->dst_do_version != migration->src_version)
            proto_tree_add_expert_format(tree, pinfo, &ei_version_mismatch, body, 0, 0,
                                         "The client asks the destination for source version %u, the source "
                                         "said %u in MIGRATE_BEGIN_SEAMLESS (frame %u)",
                                         migration->dst_do_version, migration->src_version, migration->begin_frame);
    } else if (ctx->from_server && type == SPICE_MSG_MIGRATE && PINFO_FD_VISITED(pinfo)) {
        /* Only known once the whole capture has been read: the source sent
         * nothing more on the connection and its close was not seen (a close
         * or another message would have set never_sent_frame). */
        forward = find_forward(migration, ctx->channel_type, ctx->channel_id);
        if (forward && forward->need_data_frame == pinfo->num && !forward->src_frame && !forward->never_sent_frame)
            proto_tree_add_expert_format(tree, pinfo, &ei_body_never_sent, body, 0, 0,
                                         "MIGRATE asks for NEED_DATA_TRANSFER, but the capture ends before the "
                                         "source sends the %s channel's MIGRATE_DATA or closes the connection",
                                         spicemig_channel_name(ctx->channel_type));
    }
}

static const char *const dst_verdicts[] = {
    [SPICEMIG_DST_ACCEPTS] = "accepted",
    [SPICEMIG_DST_UNSAFE]  = "accepted but unsafe",
    [SPICEMIG_DST_REJECTS] = "rejected",
};

/* What spice-server 0.15.1 as the destination does with a forwarded body:
 * the decoders have noted its acceptance checks and what it trusts blindly. */
static void
add_dst_verdict(proto_tree *tree, tvbuff_t *body, spicemig_dst_outcome_t outcome, const char *reason)
{
    proto_item *item = proto_tree_add_string(tree, hf_dst_verdict, body, 0, 0, dst_verdicts[outcome]);

    proto_item_set_generated(item);
    if (reason) {
        proto_item_append_text(item, " (%s)", reason);
        item = proto_tree_add_string(proto_item_add_subtree(item, ett_migration), hf_dst_verdict_reason, body,
                                     0, 0, reason);
        proto_item_set_generated(item);
    }
}

void
spicemig_analysis_link_error(spicemig_analysis_conn_t *conn, tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree,
                             guint32 error)
{
    secured_retry_key_t *key;

    if (conn && error == SPICE_LINK_ERR_NEED_SECURED && !PINFO_FD_VISITED(pinfo)) {
        /* Not a refusal: the client links the channel again on the TLS port. */
        key = wmem_new(wmem_file_scope(), secured_retry_key_t);
        key->addr = conn->server.addr;
        key->channel_type = conn->channel_type;
        wmem_map_insert(secured_retries, key, &conn->server);
    }
    if (!conn || !conn->dst_of || error == SPICE_LINK_ERR_OK || error == SPICE_LINK_ERR_NEED_SECURED)
        return;
    if (!PINFO_FD_VISITED(pinfo))
        outcome_event_value(conn->dst_of, SPICEMIG_EVENT_DST_LINK_REFUSED, pinfo, error);
    add_migration_items(tree, tvb, pinfo, conn->dst_of);
    queue_outcome_problems(pinfo, conn->dst_of, SPICEMIG_PARTY_DESTINATION, TRUE);
}

gboolean
spicemig_analysis_watching_closes(void)
{
    return undecided_migrations > 0 || awaited_bodies > 0 || unsent_migrations > 0;
}

void
spicemig_analysis_connection_closed(spicemig_analysis_conn_t *conn, packet_info *pinfo)
{
    spicemig_migration_t *migration;
    const forward_t *unsent;
    gboolean awaited;
    role_t role;

    if (conn->closed)
        return;
    conn->closed = TRUE;
    role = conn_role(conn, pinfo->num);
    migration = role == ROLE_DESTINATION ? conn->dst_of
              : conn->src_of ? conn->src_of : conn->session ? conn->session->current_migration : NULL;
    if (!migration || role == ROLE_NONE)
        return;
    /* Closed between MIGRATE and its MIGRATE_DATA, or after the source
     * showed it will not send a body: the outcome is told which channel's
     * body, and who closed. */
    unsent = conn->awaiting_body ? conn->awaiting_body : migration->unsent;
    outcome_event_value(migration, role == ROLE_SOURCE ? SPICEMIG_EVENT_SRC_CLOSED : SPICEMIG_EVENT_DST_CLOSED,
                        pinfo, unsent && role == ROLE_SOURCE
                        ? SPICEMIG_CLOSED_AWAITING(unsent->channel_type, from_server(conn, pinfo)) : 0);
    awaited = conn->awaiting_body != NULL;
    if (awaited)
        body_never_sent(conn, pinfo, from_server(conn, pinfo));
    if (migration->unsent_watched && migration->outcome.result == SPICEMIG_OUTCOME_FAILED) {
        /* Failed: no more closes to watch for it. */
        migration->unsent_watched = FALSE;
        unsent_migrations--;
    }
    if (!awaited && migration->outcome.problem_frame != pinfo->num)
        return;
    conn->closed_frame = pinfo->num;
    conn->closed_migration = migration;
    wmem_map_insert(close_frames, GUINT_TO_POINTER(pinfo->num), conn);
}

void
spicemig_analysis_close_items(proto_tree *tree, tvbuff_t *tvb, packet_info *pinfo)
{
    const spicemig_analysis_conn_t *conn;
    spicemig_migration_info_t info;
    spicemig_msg_ctx_t ctx = { 0 };
    proto_item *item;
    proto_tree *subtree;
    spicemig_party_t server;

    if (wmem_map_size(close_frames) == 0
        || !(conn = (const spicemig_analysis_conn_t *)wmem_map_lookup(close_frames, GUINT_TO_POINTER(pinfo->num))))
        return;
    spicemig_migration_get_info(conn->closed_migration, pinfo->pool, &info);
    item = proto_tree_add_item(tree, proto_spicemig, tvb, 0, 0, ENC_NA);
    proto_item_append_text(item, ", a connection of migration %u closed", info.id);
    subtree = proto_item_add_subtree(item, ett_migration);
    spicemig_analysis_connection_items(subtree, tvb, pinfo, conn);
    ctx.channel_type = conn->channel_type;
    ctx.channel_id = conn->channel_id;
    ctx.from_server = from_server(conn, pinfo);
    if (conn->never_sent && conn->never_sent->never_sent_frame == pinfo->num)
        add_body_problems(subtree, tvb, 0, pinfo, conn, &ctx, 0);
    add_migration_items(subtree, tvb, pinfo, conn->closed_migration);
    server = conn_role(conn, pinfo->num) == ROLE_DESTINATION ? SPICEMIG_PARTY_DESTINATION : SPICEMIG_PARTY_SOURCE;
    queue_outcome_problems(pinfo, conn->closed_migration, server, ctx.from_server);
}

/* The server a message of `side` is exchanged with, as a party of its migration. */
static spicemig_party_t
server_party(const spicemig_analysis_conn_t *conn, side_t side)
{
    if (side == SIDE_EITHER)
        return conn->src_of ? SPICEMIG_PARTY_SOURCE : SPICEMIG_PARTY_DESTINATION;
    return side == SIDE_DESTINATION ? SPICEMIG_PARTY_DESTINATION : SPICEMIG_PARTY_SOURCE;
}

static void
queue_message(packet_info *pinfo, const spicemig_migration_t *migration, spicemig_party_t server,
              const spicemig_msg_ctx_t *ctx, guint16 type, guint8 channel_type, const char *milestone,
              tvbuff_t *body, const char *hop)
{
    spicemig_tap_t *record = new_arrow(pinfo, migration, server, ctx->from_server,
                                       spicemig_channel_name(channel_type), spicemig_message_name(ctx, type),
                                       milestone);

    if (body && tvb_captured_length(body) >= 4) {
        record->magic = (const char *)tvb_format_text(pinfo->pool, body, 0, 4);
        record->hop = hop;
    }
    tap_queue_packet(spicemig_tap, pinfo, record);
}

static const char *
migration_message(spicemig_analysis_conn_t **analysis, tvbuff_t *body, packet_info *pinfo, proto_tree *tree,
                  const spicemig_msg_ctx_t *ctx, guint16 type, const address *server_addr, guint32 server_port)
{
    gboolean body_message = type == (ctx->from_server ? SPICE_MSG_MIGRATE_DATA : SPICE_MSGC_MIGRATE_DATA);
    spicemig_analysis_conn_t *conn = *analysis;
    spicemig_migration_t *migration;
    forward_t *forward = NULL;
    guint8 channel_type = ctx->channel_type;
    const char *hop;
    const char *milestone = NULL;
    spicemig_party_t server = SPICEMIG_PARTY_SOURCE;

    const char *dst_reason;
    spicemig_dst_outcome_t dst_outcome;

    dst_outcome = spicemig_take_dst_outcome(pinfo, &dst_reason);
    if (body_message && channel_type == 0 && tvb_captured_length(body) >= 4)
        channel_type = spicemig_migrate_data_channel(tvb_get_letohl(body, 0));

    if (!PINFO_FD_VISITED(pinfo)) {
        if (!conn) {
            /* Captured mid-connection: the message says which side it is. */
            conn = *analysis = new_conn(server_addr, server_port, channel_type, ctx->channel_id);
            conn->claimed_role = message_side(ctx, type) == SIDE_DESTINATION ? ROLE_DESTINATION : ROLE_SOURCE;
        }
        migration = assign_migration(conn, pinfo, ctx, type);
        if (migration) {
            record_control(migration, conn, body, pinfo, ctx, type);
            if (body_message) {
                forward = find_or_add_forward(migration, channel_type, ctx->channel_id);
                if (ctx->from_server) {
                    record_source_body(migration, forward, body, pinfo);
                    stop_awaiting(conn);
                }
                else
                    record_forwarded_body(migration, forward, body, pinfo);
            }
        }
    } else if (conn) {
        switch (message_side(ctx, type)) {
        case SIDE_SOURCE:      migration = conn->src_of; break;
        case SIDE_DESTINATION: migration = conn->dst_of; break;
        default:               migration = conn->src_of ? conn->src_of : conn->dst_of; break;
        }
    } else {
        migration = NULL;
    }

    if (migration) {
        /* A migration comes with the connection it was found on. */
        server = server_party(conn, message_side(ctx, type));
        add_migration_items(tree, body, pinfo, migration);
        if (body_message && (forward || (forward = find_forward(migration, channel_type, ctx->channel_id))))
            add_forward_items(tree, body, pinfo, migration, forward, ctx->from_server);
        milestone = add_milestone(tree, body, pinfo, ctx, type, migration, forward);
        if (conn)
            add_checks(tree, body, pinfo, ctx, type, conn, migration);
    }
    if (body_message && !ctx->from_server)
        add_dst_verdict(tree, body, dst_outcome, dst_reason);
    hop = NULL;
    if (body_message) {
        hop = ctx->from_server ? HOP_SOURCE_TO_CLIENT : HOP_CLIENT_TO_DESTINATION;
        proto_item_set_generated(proto_tree_add_string(tree, hf_hop, body, 0, 0, hop));
    }
    if (have_tap_listener(spicemig_tap)) {
        queue_message(pinfo, migration, server, ctx, type, channel_type, milestone, body_message ? body : NULL, hop);
        if (migration)
            queue_outcome_problems(pinfo, migration, server, ctx->from_server);
    }
    return hop;
}

const char *
spicemig_analysis_message(spicemig_analysis_conn_t **analysis, tvbuff_t *tvb, int msg_offset, int msg_len,
                          guint32 header_len, tvbuff_t *body, packet_info *pinfo, proto_tree *frame_tree, proto_tree *msg_tree,
                          const spicemig_msg_ctx_t *ctx, guint16 type, const address *server_addr,
                          guint32 server_port)
{
    spicemig_analysis_follow_message(*analysis, tvb, msg_offset, msg_len, header_len, pinfo, frame_tree, ctx, type);
    if (!spicemig_is_migration_message(ctx, type))
        return NULL;
    return migration_message(analysis, body, pinfo, msg_tree, ctx, type, server_addr, server_port);
}

void
spicemig_register_analysis(int proto, expert_module_t *expert)
{
    static hf_register_info hf[] = {
        { &hf_session_id,
          { "Session id", "spicemig.session_id", FT_UINT32, BASE_HEX, NULL, 0x0,
            "SPICE session: the source's MAIN_INIT session id, which the client's links carry as connection id",
            HFILL }},
        { &hf_role,
          { "Role", "spicemig.role", FT_STRING, BASE_NONE, NULL, 0x0,
            "Role of this connection's server in the migration: source or destination", HFILL }},
        { &hf_hop,
          { "Hop", "spicemig.hop", FT_STRING, BASE_NONE, NULL, 0x0,
            "Which leg of its way from source to destination this migrate-data body is on", HFILL }},
        { &hf_milestone,
          { "Migration step", "spicemig.milestone", FT_NONE, BASE_NONE, NULL, 0x0,
            "Any step of a migration's timeline (the spicemig.milestone.* expert infos)", HFILL }},
        { &hf_forward_identical,
          { "Forwarded copy", "spicemig.forward_identical", FT_BOOLEAN, BASE_NONE,
            TFS(&tfs_identical_modified), 0x0,
            "Whether the client forwarded the source's body byte for byte", HFILL }},
        { &hf_forwarded_from,
          { "Forwarded from", "spicemig.forwarded_from", FT_FRAMENUM, BASE_NONE,
            FRAMENUM_TYPE(FT_FRAMENUM_REQUEST), 0x0,
            "The frame in which the source sent the body the client forwarded here", HFILL }},
        { &hf_forwarded_in,
          { "Forwarded in", "spicemig.forwarded_in", FT_FRAMENUM, BASE_NONE,
            FRAMENUM_TYPE(FT_FRAMENUM_RESPONSE), 0x0,
            "The frame in which the client forwarded this body to the destination", HFILL }},
        { &hf_forward_missing_in,
          { "Known not forwarded in", "spicemig.forward_missing_in", FT_FRAMENUM, BASE_NONE,
            FRAMENUM_TYPE(FT_FRAMENUM_NONE), 0x0,
            "The client's first message to the destination on this channel, which was not this body", HFILL }},
        { &hf_migration_id,
          { "Migration", "spicemig.migration.id", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Number of the migration in the capture", HFILL }},
        { &hf_migration_session_id,
          { "Migrated session id", "spicemig.migration.session_id", FT_UINT32, BASE_HEX, NULL, 0x0,
            "The SPICE session the migration moves: the source's MAIN_INIT session id", HFILL }},
        { &hf_migration_new_session_id,
          { "New session id", "spicemig.migration.new_session_id", FT_UINT32, BASE_HEX, NULL, 0x0,
            "After switch-host the client relinks with connection id 0: the session id the destination gives it",
            HFILL }},
        { &hf_migration_relink,
          { "Relinked in", "spicemig.migration.relink", FT_FRAMENUM, BASE_NONE, FRAMENUM_TYPE(FT_FRAMENUM_NONE), 0x0,
            "The client's new main link to the host MIGRATE_SWITCH_HOST named", HFILL }},
        { &hf_migration_begin,
          { "Began in", "spicemig.migration.begin", FT_FRAMENUM, BASE_NONE,
            FRAMENUM_TYPE(FT_FRAMENUM_REQUEST), 0x0, "The frame that began this migration", HFILL }},
        { &hf_migration_source,
          { "Source", "spicemig.migration.source", FT_STRING, BASE_NONE, NULL, 0x0,
            "Address and port of the source server", HFILL }},
        { &hf_migration_destination,
          { "Destination", "spicemig.migration.destination", FT_STRING, BASE_NONE, NULL, 0x0,
            "Address and port of the destination server", HFILL }},
        { &hf_time_begin_to_migrate,
          { "Begin to MIGRATE", "spicemig.migration.time.begin_to_migrate", FT_RELATIVE_TIME, BASE_NONE,
            NULL, 0x0, "From the migration's beginning to the source's first MIGRATE", HFILL }},
        { &hf_time_migrate_to_forwarded,
          { "MIGRATE to last body forwarded", "spicemig.migration.time.migrate_to_forwarded", FT_RELATIVE_TIME,
            BASE_NONE, NULL, 0x0, "From the source's first MIGRATE to the last body the client forwarded", HFILL }},
        { &hf_time_display_gap,
          { "Display gap", "spicemig.migration.time.display_gap", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
            "From the source's last drawing message to the destination's first: the pause the user sees",
            HFILL }},
        { &hf_dst_verdict,
          { "Destination verdict", "spicemig.dst_verdict", FT_STRING, BASE_NONE, NULL, 0x0,
            "What spice-server 0.15.1 as the destination does with this body: accepted, rejected, or accepted "
            "but unsafe (it uses a value it does not check)", HFILL }},
        { &hf_dst_verdict_reason,
          { "Reason", "spicemig.dst_verdict.reason", FT_STRING, BASE_NONE, NULL, 0x0,
            "The check the body fails, or the unchecked value that breaks the destination", HFILL }},
    };
    static gint *ett[] = { &ett_migration };
    static ei_register_info ei[] = {
        { &ei_forward_modified,
          { "spicemig.forward_modified", PI_PROTOCOL, PI_WARN,
            "The client forwarded a body that differs from the source's", EXPFILL }},
        { &ei_forward_missing,
          { "spicemig.forward_missing", PI_SEQUENCE, PI_WARN,
            "The client never forwarded this body to the destination", EXPFILL }},
        { &ei_forward_unmatched,
          { "spicemig.forward_unmatched", PI_SEQUENCE, PI_NOTE,
            "No source copy of this forwarded body in the capture (it began too late?)", EXPFILL }},
        /* In the order of a migration: the Expert dialog groups them so. */
        { &ei_step_begin,
          { "spicemig.milestone.begin", PI_SEQUENCE, PI_CHAT,
            "Migration step: the source begins the migration", EXPFILL }},
        { &ei_step_dst_answer,
          { "spicemig.milestone.dst_answer", PI_SEQUENCE, PI_CHAT,
            "Migration step: the destination answers the seamless request", EXPFILL }},
        { &ei_step_connected,
          { "spicemig.milestone.connected", PI_SEQUENCE, PI_CHAT,
            "Migration step: the client connects to the destination, or cannot", EXPFILL }},
        { &ei_step_switch_over,
          { "spicemig.milestone.switch_over", PI_SEQUENCE, PI_CHAT,
            "Migration step: switch-over, MIGRATE on a channel", EXPFILL }},
        { &ei_step_forwarded,
          { "spicemig.milestone.forwarded", PI_SEQUENCE, PI_CHAT,
            "Migration step: the client forwards a body to the destination", EXPFILL }},
        { &ei_step_resumed,
          { "spicemig.milestone.resumed", PI_SEQUENCE, PI_CHAT,
            "Migration step: the destination resumes drawing", EXPFILL }},
        { &ei_step_end,
          { "spicemig.milestone.end", PI_SEQUENCE, PI_CHAT,
            "Migration step: the source ends or cancels the migration", EXPFILL }},
        { &ei_display_init_mismatch,
          { "spicemig.display_init_mismatch", PI_PROTOCOL, PI_WARN,
            "The source's display body differs from the client's DISPLAY_INIT", EXPFILL }},
        { &ei_version_mismatch,
          { "spicemig.version_mismatch", PI_PROTOCOL, PI_WARN,
            "MIGRATE_DST_DO_SEAMLESS names another source version than MIGRATE_BEGIN_SEAMLESS", EXPFILL }},
        { &ei_body_without_ack,
          { "spicemig.body_without_ack", PI_SEQUENCE, PI_WARN,
            "Body forwarded to a destination that has not acknowledged the seamless migration", EXPFILL }},
        { &ei_body_never_sent,
          { "spicemig.body_never_sent", PI_SEQUENCE, PI_WARN,
            "MIGRATE asks for a data transfer, but the channel's body never comes", EXPFILL }},
    };

    proto_register_field_array(proto, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_register_field_array(expert, ei, array_length(ei));

    sessions = wmem_map_new_autoreset(wmem_epan_scope(), wmem_file_scope(), g_direct_hash, g_direct_equal);
    secured_retries = wmem_map_new_autoreset(wmem_epan_scope(), wmem_file_scope(), secured_retry_hash,
                                             secured_retry_equal);
    close_frames = wmem_map_new_autoreset(wmem_epan_scope(), wmem_file_scope(), g_direct_hash, g_direct_equal);
    switch_host_targets = wmem_map_new_autoreset(wmem_epan_scope(), wmem_file_scope(), endpoint_hash,
                                                 endpoint_key_equal);
    register_init_routine(analysis_init);
    spicemig_tap = register_tap("spicemig");
}
