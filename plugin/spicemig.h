/* spicemig.h
 * Shared declarations of the spicemig plugin: SPICE live-migration traffic
 * for Wireshark.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef SPICEMIG_H
#define SPICEMIG_H

#include <epan/packet.h>
#include <epan/expert.h>
#include <epan/prefs.h>
#include <epan/unit_strings.h>

#include "spicemig-compat.h"

#include <spice/protocol.h>
#include <spice/enums.h>

extern int proto_spicemig;

/* Keys of spicemig's packet-scope proto data (p_add_proto_data(pinfo->pool, ...)). */
enum {
    SPICEMIG_KEY_FRAME_VIEW,     /* spicemig-stream.c: the frame's one item and its Info line (and notes) */
    SPICEMIG_KEY_TLS_CONSUMED,   /* spicemig-tls.c: bytes framed in this frame's earlier TLS records */
    SPICEMIG_KEY_DST_OUTCOME,    /* spicemig-body-checks.c: the destination verdict being noted */
    SPICEMIG_KEY_RESUMED_SHOWN,  /* spicemig-analysis.c: the "resumed drawing" milestone is shown */
    SPICEMIG_KEY_BODY_PROBLEM_SHOWN, /* spicemig-analysis.c: a body never sent or forwarded is said */
    SPICEMIG_KEY_AGENT_RECORDS   /* spicemig-agent.c, file scope: where each AGENT_DATA of the frame starts */
};

/* Where a tvb starts in its direction's byte stream: the TCP sequence number
 * on TCP, the position spicemig-tls.c gives inside TLS. */
typedef guint64 spicemig_pos_t;

/* The guest agent state of one main channel connection (spicemig-agent.c). */
typedef struct spicemig_agent_conn spicemig_agent_conn_t;

/* What the decoders of one message need to know about where it came from. */
typedef struct {
    guint8   channel_type;   /* SPICE_CHANNEL_*, 0 while unknown */
    guint8   channel_id;
    gboolean from_server;
    /* Only for the messages spicemig decodes itself (NULL and 0 elsewhere): */
    spicemig_agent_conn_t **agent;  /* the connection's agent state, made on first use */
    spicemig_pos_t pos;             /* where the message starts in its direction's stream */
} spicemig_msg_ctx_t;

/* ---- spicemig-names.c: message and channel names ---- */
extern const value_string spicemig_channel_type_vals[];
/* "MIGRATE_DATA", "DRAW_COPY", ...; never NULL. */
const char *spicemig_message_name(const spicemig_msg_ctx_t *ctx, guint16 type);
/* The channel type whose messages a channel has: its own, but WebDAV's are
 * the port channel's (spice.proto: WebDAVChannel : PortChannel). */
static inline guint8
spicemig_messages_of(guint8 channel_type)
{
    return channel_type == SPICE_CHANNEL_WEBDAV ? SPICE_CHANNEL_PORT : channel_type;
}
/* Whether the channel (or every channel, for common types) has this message in this direction. */
gboolean spicemig_message_known(const spicemig_msg_ctx_t *ctx, guint16 type);
/* A hop ("source→client") spelt "source->client", in `scope`. */
const char *spicemig_hop_ascii(wmem_allocator_t *scope, const char *hop);
/* "Display", "Main", ...; "SPICE" while the channel is unknown. */
const char *spicemig_channel_name(guint8 channel_type);

/* ---- spicemig-body-checks.c: the one offset-pointer check, and the length
 * checks every body decoder shares ---- */
void spicemig_register_pointer(int proto, expert_module_t *expert);
/* A message body: a fixed part, then the regions its offset pointers
 * (offsets from the body start) point to. */
typedef struct {
    tvbuff_t    *tvb;
    packet_info *pinfo;
    guint32      len;             /* reported length of the body */
    guint32      fixed_part_end;  /* first byte after the fixed part */
    guint32      accounted_end;   /* end of the fixed part and of every region found so far */
    gboolean     bad_pointer;     /* a pointer was rejected: what follows the fixed part is unexplained */
} spicemig_body_t;
void spicemig_body_init(spicemig_body_t *body, tvbuff_t *tvb, packet_info *pinfo,
                        guint32 fixed_part_end);
/* Checks that [ptr, ptr+len) lies inside the body and after its fixed part.
 * Pointer 0 with length 0 is the real-world "empty" and is fine. Adds the
 * expert info on `ptr_item` (text names the field `ptr_name`) and returns
 * FALSE when the region must not be read. */
gboolean spicemig_check_pointer(spicemig_body_t *body, proto_item *ptr_item, const char *ptr_name,
                                guint32 ptr, guint32 len);
/* The unit of every offset pointer field (BASE_UNIT_STRING), so that its
 * value says where it counts from: "80 bytes from the body start". */
extern const unit_name_string spicemig_units_body_offset;
/* FALSE, with spicemig.truncated on the body, when the body is shorter than
 * its fixed part; `what` names the body ("DCMD", "DISCONNECTING"). */
gboolean spicemig_check_fixed_part(spicemig_body_t *body, proto_tree *tree, const char *what);
/* How many of `count` entries of `entry_size` bytes at `offset` the body
 * holds; spicemig.truncated on `count_item` when not all of them. */
guint32 spicemig_check_count(spicemig_body_t *body, proto_item *count_item, const char *count_name,
                             guint32 count, guint32 offset, guint32 entry_size);
/* spicemig.trailing_data for bytes after everything the body accounts for. */
void spicemig_check_trailing(spicemig_body_t *body, proto_tree *tree);
/* What the destination spice-server 0.15.1 would do with the migrate-data
 * body being decoded: a check it would fail (REJECTS) or a value it would use
 * unchecked (UNSAFE); the analysis takes the worst note (packet scope) after
 * each message. */
typedef enum {
    SPICEMIG_DST_ACCEPTS,
    SPICEMIG_DST_UNSAFE,
    SPICEMIG_DST_REJECTS
} spicemig_dst_outcome_t;
/* A problem a check found in the message being decoded, short and in the tree
 * labels' words: the first one of a message ends its Info column entry as
 * " [problem]", the worst outcome is the destination's verdict. */
void spicemig_note_problem(packet_info *pinfo, spicemig_dst_outcome_t outcome, const char *problem);
/* The Info column side of spicemig_note_problem(), for problems that are no
 * verdict on a body (stream framing, forwarding); the first of a message wins. */
void spicemig_note_info_problem(packet_info *pinfo, const char *problem);
/* What the note-taker leaves for the framing's Info column: the first
 * member of the frame's view (SPICEMIG_KEY_FRAME_VIEW, layer 0), so that the
 * framing reads it with no lookup per message. */
typedef struct {
    const char *problem;  /* the message's first problem, NULL when none */
} spicemig_frame_notes_t;
spicemig_dst_outcome_t spicemig_take_dst_outcome(packet_info *pinfo, const char **reason);
/* proto_tree_add_item() of a fixed-part field when the body holds all of it,
 * so that a body cut short keeps the fields it has. Returns whether the field
 * is there; `item` and `value` (fields of 1, 2 or 4 bytes) may be NULL. */
gboolean spicemig_add_fixed_field(spicemig_body_t *body, proto_tree *tree, int hf,
                                  guint32 offset, guint32 size,
                                  proto_item **item, guint32 *value);

/* ---- spicemig-migrate-data.c: SPICE_MSG(C)_MIGRATE_DATA bodies ---- */
void spicemig_register_migrate_data(int proto, expert_module_t *expert, module_t *prefs_module);
/* Decodes one migrate-data body; `body` holds exactly the body. Returns the
 * Info column summary (packet scope), e.g. "DCMD v1: 1 surface, GLZ window 6290432". */
const char *spicemig_dissect_migrate_data(tvbuff_t *body, packet_info *pinfo,
                                          proto_tree *tree, const spicemig_msg_ctx_t *ctx);
/* The channel type a migrate-data magic (as tvb_get_letohl() reads it)
 * belongs to, 0 for an unknown magic. SVMD, shared by the spicevmc
 * channels, gives SPICE_CHANNEL_USBREDIR. */
guint8 spicemig_migrate_data_channel(guint32 magic);
/* Known magic, a version a server could have written and a body_len that
 * holds its fixed part. Reads only what the tvb holds (never throws). */
gboolean spicemig_migrate_data_plausible(tvbuff_t *tvb, int offset, guint32 body_len);

/* ---- spicemig-control.c: migration control messages ---- */
void spicemig_register_control(int proto, expert_module_t *expert);
/* TRUE for the messages spicemig decodes itself instead of handing them to
 * the built-in SPICE dissector. */
gboolean spicemig_is_migration_message(const spicemig_msg_ctx_t *ctx, guint16 type);
/* Decodes the body of a migration message other than MIGRATE_DATA; `body`
 * holds exactly the body. Returns a short Info summary or NULL. */
const char *spicemig_dissect_control(tvbuff_t *body, packet_info *pinfo, proto_tree *tree,
                                     const spicemig_msg_ctx_t *ctx, guint16 type);
/* WAIT_FOR_CHANNELS' body layout {wait_count u8, WaitForChannel list}, which
 * display's INVAL_ALL_PIXMAPS shares. Returns the Info summary. */
const char *spicemig_dissect_wait_list(spicemig_body_t *body, proto_tree *tree, const char *name);
/* Names of SPICE_LINK_ERR_* (link results, DISCONNECTING reasons). */
extern const value_string spicemig_link_err_vals[];

/* ---- spicemig-outcome.c: the path a migration took, its outcome and why ---- */
typedef enum {
    SPICEMIG_PATH_NONE,           /* no MIGRATE_BEGIN* in the capture */
    SPICEMIG_PATH_SEAMLESS,
    SPICEMIG_PATH_SEMI_SEAMLESS,
    SPICEMIG_PATH_SWITCH_HOST
} spicemig_path_t;
typedef enum {
    SPICEMIG_OUTCOME_UNKNOWN,
    SPICEMIG_OUTCOME_COMPLETED,
    SPICEMIG_OUTCOME_CANCELLED,
    SPICEMIG_OUTCOME_FAILED
} spicemig_outcome_result_t;
/* The steps of a migration the analysis reports, on the first pass. */
typedef enum {
    SPICEMIG_EVENT_BEGIN_SEAMLESS,      /* source MIGRATE_BEGIN_SEAMLESS */
    SPICEMIG_EVENT_BEGIN_SEMI_SEAMLESS, /* source MIGRATE_BEGIN */
    SPICEMIG_EVENT_SWITCH_HOST,         /* source MIGRATE_SWITCH_HOST */
    SPICEMIG_EVENT_DST_NACK,            /* destination MIGRATE_DST_SEAMLESS_NACK */
    SPICEMIG_EVENT_CONNECTED,           /* client MIGRATE_CONNECTED(_SEAMLESS) */
    SPICEMIG_EVENT_CONNECT_ERROR,       /* client MIGRATE_CONNECT_ERROR */
    SPICEMIG_EVENT_DST_LINK_REFUSED,    /* the destination's link reply or result is an error */
    SPICEMIG_EVENT_CANCEL,              /* source MIGRATE_CANCEL */
    SPICEMIG_EVENT_MIGRATE,             /* source MIGRATE (seamless switch-over) */
    SPICEMIG_EVENT_SRC_END,             /* source MIGRATE_END (semi-seamless switch-over) */
    SPICEMIG_EVENT_BODY_FORWARDED,      /* client MIGRATE_DATA to the destination */
    SPICEMIG_EVENT_CLIENT_END,          /* client MIGRATE_END to the destination */
    SPICEMIG_EVENT_SRC_CLOSED,          /* a source connection closed (TCP FIN or RST); value: see
                                         * SPICEMIG_CLOSED_AWAITING */
    SPICEMIG_EVENT_DST_CLOSED,          /* a destination connection closed */
    SPICEMIG_EVENT_RELINKED,            /* the client's new main link to the switch-host target */
    SPICEMIG_EVENT_RELINK_INIT          /* MAIN_INIT on that link: the new session */
} spicemig_outcome_event_t;
/* The value of SPICEMIG_EVENT_SRC_CLOSED when a source connection closes
 * after MIGRATE while a body MIGRATE asked for was not sent (awaited on the
 * closing connection, or shown never to come on any): that body's channel
 * type, and whether the server's side closed first (0: no body missing).
 * Only a server closing first fails the migration. */
#define SPICEMIG_CLOSED_AWAITING_BODY   0x100u
#define SPICEMIG_CLOSED_BY_SERVER       0x200u
#define SPICEMIG_CLOSED_AWAITING(channel_type, by_server) \
    (SPICEMIG_CLOSED_AWAITING_BODY | ((by_server) ? SPICEMIG_CLOSED_BY_SERVER : 0u) | (guint8)(channel_type))
/* One migration's outcome state, recorded on the first pass (file scope). */
typedef struct {
    spicemig_path_t path;
    gboolean    fell_back;         /* to switch-host, after a seamless or semi-seamless start */
    spicemig_outcome_result_t result;  /* decided by an event; else worked out when read */
    const char *reason;
    guint32     end_frame;
    nstime_t    end_time;
    guint32     problem_frame;     /* the warning of a cancel or failure is on this frame */
    /* Steps that went wrong, each with its warning: */
    guint32     nack_frame, connect_error_frame, link_refused_frame;
    guint32     link_error;        /* SPICE_LINK_ERR_* of the refused link */
    guint32     switch_host_frame, connected_frame;
    guint32     migrate_frame, src_end_frame, relink_frame, dst_closed_frame;
} spicemig_outcome_t;
/* The outcome as shown; strings in `scope` or file scope. */
typedef struct {
    const char *kind;       /* "seamless", "seamless, fell back to switch-host", ... */
    spicemig_outcome_result_t result;
    const char *outcome;    /* "completed", "cancelled", "failed", "unknown" */
    const char *reason;     /* NULL for a plain completed migration */
    guint32     end_frame;  /* 0 while unknown */
    nstime_t    end_time;
} spicemig_outcome_info_t;
void spicemig_register_outcome(int proto, expert_module_t *expert);
/* `destination` names the destination in reasons; `value` is the link error
 * of SPICEMIG_EVENT_DST_LINK_REFUSED. */
void spicemig_outcome_event(spicemig_outcome_t *outcome, spicemig_outcome_event_t event, packet_info *pinfo,
                            const char *destination, guint32 value);
void spicemig_outcome_get(const spicemig_outcome_t *outcome, wmem_allocator_t *scope,
                          spicemig_outcome_info_t *info);
/* A failure or setback shown on a frame: its expert info and text, and a
 * short label ("failed", "connect error"). */
typedef struct {
    expert_field *ei;
    const char   *label;
    const char   *text;
} spicemig_outcome_problem_t;
/* The outcome's failure and at most one setback. */
#define SPICEMIG_OUTCOME_MAX_PROBLEMS 2
/* The problems the outcome shows on this frame (texts in pinfo->pool); returns how many. */
guint spicemig_outcome_problems(const spicemig_outcome_t *outcome, guint32 id, packet_info *pinfo,
                                spicemig_outcome_problem_t problems[SPICEMIG_OUTCOME_MAX_PROBLEMS]);
/* Kind, outcome, reason, end and the time to it, and the warning on the
 * frame where a failure or setback shows. */
void spicemig_outcome_items(proto_tree *tree, tvbuff_t *tvb, packet_info *pinfo, const spicemig_outcome_t *outcome,
                            guint32 id, guint32 begin_frame, const nstime_t *begin_time);

/* ---- spicemig-analysis.c: sessions, roles, migrations and forwarding
 * across connections. State per connection (one pointer in the stream's
 * conversation data), session and migration, recorded on the first pass. ---- */
typedef struct spicemig_analysis_conn spicemig_analysis_conn_t;
typedef struct spicemig_migration spicemig_migration_t;
void spicemig_register_analysis(int proto, expert_module_t *expert);
/* The client's link message (first pass): creates *analysis. */
void spicemig_analysis_link(spicemig_analysis_conn_t **analysis, packet_info *pinfo, guint32 connection_id,
                            guint8 channel_type, guint8 channel_id, const address *server_addr,
                            guint32 server_port);
/* The client's link message (both passes): a link to a destination is an
 * arrow of the Flow Graph. */
void spicemig_analysis_tap_link(const spicemig_analysis_conn_t *analysis, packet_info *pinfo);
/* Each data message goes to the analysis once, by one of these two. What
 * every message tells it (an O(1) check of channel and type before any
 * work: drawing, MAIN_INIT, DISPLAY_INIT, bodies that go astray), for a
 * message the built-in SPICE dissector shows: the `msg_len` bytes at
 * `msg_offset` of `tvb` with their `header_len` header; items go on
 * `frame_tree`, the frame's item. */
void spicemig_analysis_follow_message(spicemig_analysis_conn_t *analysis, tvbuff_t *tvb, int msg_offset, int msg_len,
                                      guint32 header_len, packet_info *pinfo, proto_tree *frame_tree,
                                      const spicemig_msg_ctx_t *ctx, guint16 type);
/* The same for a message spicemig shows itself, `body` its body and
 * `msg_tree` its subtree; for a migration message also adds the migration's
 * items to `msg_tree` and returns the hop of a migrate-data body for the
 * Info column ("source→client", "client→destination"), else NULL. */
const char *spicemig_analysis_message(spicemig_analysis_conn_t **analysis, tvbuff_t *tvb, int msg_offset,
                                      int msg_len, guint32 header_len, tvbuff_t *body, packet_info *pinfo,
                                      proto_tree *frame_tree, proto_tree *msg_tree, const spicemig_msg_ctx_t *ctx,
                                      guint16 type, const address *server_addr, guint32 server_port);
/* A server's link reply error or link result (both passes): a destination
 * refusing the client's link is a setback of its migration. */
void spicemig_analysis_link_error(spicemig_analysis_conn_t *analysis, tvbuff_t *tvb, packet_info *pinfo,
                                  proto_tree *tree, guint32 error);
/* Whether a migration is still undecided, so that a connection closing matters. */
gboolean spicemig_analysis_watching_closes(void);
/* First pass: TCP saw the connection close (FIN or RST) in this frame. */
void spicemig_analysis_connection_closed(spicemig_analysis_conn_t *analysis, packet_info *pinfo);
/* On a frame where a closing connection decided a migration's outcome: a
 * spicemig item with the migration (both passes). */
void spicemig_analysis_close_items(proto_tree *tree, tvbuff_t *tvb, packet_info *pinfo);
/* The parties of a migration: the nodes of its Flow Graph. */
typedef enum {
    SPICEMIG_PARTY_SOURCE,
    SPICEMIG_PARTY_CLIENT,
    SPICEMIG_PARTY_DESTINATION
} spicemig_party_t;
/* What the "spicemig" tap gets: one record per migration message, per link
 * of a destination connection, per milestone and per problem of a migration;
 * each is an arrow of the Flow Graph, in the frame's direction. Strings are
 * static or in pinfo->pool. */
typedef struct {
    const spicemig_migration_t *migration;  /* NULL outside any migration */
    const char *magic;                      /* a migrate-data body's magic, else NULL */
    const char *hop;                        /* ... and its hop */
    spicemig_party_t sender, receiver;
    const char *channel;                    /* "Display"; NULL for a migration's problem */
    const char *label;                      /* "MIGRATE_DATA", "link", "failed", ... */
    const char *comment;                    /* the milestone or problem as its expert info says, else NULL */
} spicemig_tap_t;
/* A migration as the statistics show it; strings in `scope`. */
typedef struct {
    guint32     id;
    const char *kind;         /* see spicemig_outcome_info_t */
    const char *outcome;
    const char *reason;       /* NULL when there is none */
    guint32     end_frame;    /* 0 while unknown */
    gboolean    begin_to_end_known;
    nstime_t    begin_to_end;
    const char *source;       /* "address:port", NULL when not in the capture */
    const char *destination;
    guint32     begin_frame;
    gboolean    begin_to_migrate_known, migrate_to_forwarded_known, display_gap_known;
    nstime_t    begin_to_migrate, migrate_to_forwarded, display_gap;
    guint32     bodies_sent, bodies_forwarded, bodies_missing, bodies_modified, bodies_unmatched;
} spicemig_migration_info_t;
void spicemig_migration_get_info(const spicemig_migration_t *migration, wmem_allocator_t *scope,
                                 spicemig_migration_info_t *info);
/* spicemig.session_id and spicemig.role of the connection. */
void spicemig_analysis_connection_items(proto_tree *tree, tvbuff_t *tvb, packet_info *pinfo,
                                        const spicemig_analysis_conn_t *analysis);

/* ---- spicemig-stats.c: -z spicemig,tree, -z spicemig,migrations and
 * -z spicemig,migration_table ---- */
void spicemig_register_stats(void);

/* ---- spicemig-flow.c: Statistics > Flow Graph, -z flow,spicemig,network ---- */
void spicemig_register_flow(int proto);

/* ---- spicemig-replacements.c: messages the built-in SPICE dissector gets
 * wrong on real captures, decoded by spicemig instead ---- */
void spicemig_register_replacements(int proto);
gboolean spicemig_replaces_builtin(const spicemig_msg_ctx_t *ctx, guint16 type);
/* `body` holds exactly the body. Returns a short Info summary or NULL. */
const char *spicemig_dissect_replacement(tvbuff_t *body, packet_info *pinfo, proto_tree *tree,
                                         const spicemig_msg_ctx_t *ctx, guint16 type);

/* ---- spicemig-agent.c: the guest agent protocol (spice/vd_agent.h) ---- */
void spicemig_register_agent(int proto, expert_module_t *expert);
extern const value_string spicemig_agent_type_vals[];
extern const value_string spicemig_vdi_port_vals[];
/* An AGENT_DATA body (either direction): a VDI chunk's payload, put back
 * into agent messages with the connection's state (ctx->agent, ctx->pos).
 * Returns the Info summary. */
const char *spicemig_dissect_agent_data(spicemig_body_t *body, proto_tree *tree, const spicemig_msg_ctx_t *ctx);
/* First pass: the client hands the destination the source's main migrate
 * data; the agent messages in progress go on as continuations of these many
 * bytes on this connection. */
void spicemig_agent_migrated(const spicemig_msg_ctx_t *ctx, packet_info *pinfo, guint32 to_client_left,
                             guint32 to_agent_left);
/* MNMD's queued write data (`len` bytes at `offset`): VDI chunks and the
 * agent messages in them. Sets *chunks; returns the Info summary. */
const char *spicemig_dissect_agent_write_data(tvbuff_t *tvb, int offset, guint32 len, packet_info *pinfo,
                                              proto_tree *tree, guint32 *chunks);

/* ---- spicemig-caps.c: link capability words ---- */
void spicemig_register_caps(int proto);
/* The common and channel capability words of a link message, at `caps_start`. */
void spicemig_add_link_caps(proto_tree *tree, tvbuff_t *tvb, int caps_start, guint32 num_common,
                            guint32 num_channel, guint8 channel_type);

/* ---- spicemig-stream.c: SPICE stream framing and the frame's view ---- */
void spicemig_register_stream(int proto, expert_module_t *expert, module_t *prefs_module);
void spicemig_handoff_stream(void);
/* Claims the connection when `tvb` starts SPICE (link message, or a
 * migration message mid-connection). `carrier` is the dissector that hands
 * spicemig the connection's bytes and stays its conversation dissector:
 * spicemig's own on TCP, TLS's for SPICE inside TLS. */
gboolean spicemig_stream_claim(tvbuff_t *tvb, packet_info *pinfo, spicemig_pos_t pos,
                               dissector_handle_t carrier);
/* Whether the connection of this packet has been claimed. */
gboolean spicemig_stream_owns(packet_info *pinfo);
/* Frames the SPICE messages in `tvb`; returns how many bytes it framed
 * (less than the tvb when it asked for more through pinfo->desegment_*). */
int spicemig_stream_dissect(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data,
                            spicemig_pos_t pos);

/* ---- spicemig-tls.c: SPICE inside TLS application data ---- */
void spicemig_register_tls(int proto, expert_module_t *expert);
void spicemig_handoff_tls(void);
/* Hands a connection that starts with a TLS handshake record to TLS (and
 * makes TLS its conversation dissector); returns 0 for anything else. */
int spicemig_tls_dissect_handshake(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data);
/* spicemig.link.need_secured on a server link reply refusing a plain
 * connection (SPICE_LINK_ERR_NEED_SECURED). */
void spicemig_tls_check_link_error(packet_info *pinfo, proto_item *error_item, guint8 channel_type,
                                   guint32 error);

#endif /* SPICEMIG_H */
