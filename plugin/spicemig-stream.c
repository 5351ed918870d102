/* spicemig-stream.c
 * SPICE stream framing that stays in sync through a live migration.
 *
 * spicemig owns every SPICE TCP connection: it frames the link phase and
 * every data message itself (mini or full header, TCP reassembly, several
 * messages per segment), decodes the migration messages, and hands every
 * other message, as exactly that one message, to Wireshark's built-in SPICE
 * dissector so that its decoding of drawing, cursor and main messages is kept.
 *
 * Where each direction's link messages and data phase start is remembered
 * as stream positions in the conversation (TCP sequence numbers, or what
 * spicemig-tls.c gives for SPICE inside TLS): a handful of numbers per
 * connection, so any pass can frame any segment without per-frame state.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <wireshark.h>
#include <epan/conversation.h>
#include <epan/proto_data.h>
#include <epan/dissectors/packet-tcp.h>
#include <epan/exceptions.h>
#include <epan/show_exception.h>
#include <epan/tap.h>
#include <epan/tfs.h>
#include <epan/unit_strings.h>

#include "spicemig.h"

#define LINK_HEADER_LEN      16   /* sizeof(SpiceLinkHeader) */
#define LINK_MESS_LEN        18   /* sizeof(SpiceLinkMess) */
#define LINK_REPLY_LEN       178  /* sizeof(SpiceLinkReply) */
#define AUTH_MECHANISM_LEN   4    /* sizeof(SpiceLinkAuthMechanism) */
#define TICKET_LEN           128  /* sizeof(SpiceLinkEncryptedTicket) */
#define LINK_RESULT_LEN      4
#define MINI_HEADER_LEN      6    /* sizeof(SpiceMiniDataHeader) */
#define FULL_HEADER_LEN      18   /* sizeof(SpiceDataHeader) */
#define MAX_LINK_BODY        4096 /* far above any real link message */
/* Far above any real message body (a whole 4K frame uncompressed is 32 MiB):
 * a larger size is not SPICE framing, and TCP is not asked to buffer it. */
#define MAX_MESSAGE_BODY     (64u * 1024 * 1024)
/* Above every message type spice-protocol defines (display's reach 3xx). */
#define MAX_MESSAGE_TYPE     999
#define SPICE_MAGIC_BE       0x52454451 /* "REDQ" read big-endian */
#define SPICEMIG_VNC_PORTS   "5900-5901"
#define MULTIPLICATION_SIGN  "\xc3\x97"  /* U+00D7, as in "DRAW_COPY ×36" */
#define BUILTIN_TABLE_KEY    0           /* the one entry of spicemig.builtin */

/* What comes at a position of one direction's byte stream. */
typedef enum {
    PHASE_CLIENT_LINK,
    PHASE_AUTH_SELECT,
    PHASE_TICKET,
    PHASE_SERVER_LINK,
    PHASE_LINK_RESULT,
    PHASE_DATA,
    PHASE_SASL,         /* SASL-wrapped from here on: not framed by us */
    PHASE_UNFRAMED,     /* after a link message of impossible size: no boundary known */
    PHASE_UNSYNCED      /* capture started mid-connection, no boundary seen yet */
} stream_phase_t;

#define MAX_LINK_MESSAGES 3
#define MAX_NAMED_PER_FRAME 8

typedef struct {
    spicemig_pos_t link_seq[MAX_LINK_MESSAGES]; /* where each link message starts */
    guint    link_count;
    gboolean data_known;
    spicemig_pos_t data_seq;              /* first byte after the link phase */
    stream_phase_t data_phase;            /* PHASE_DATA, PHASE_SASL or PHASE_UNFRAMED */
} direction_t;

typedef struct {
    direction_t  dir[2];           /* indexed by from_server */
    address      server_addr;
    guint32      server_port;
    guint8       channel_type;
    guint8       channel_id;
    gboolean     client_mini_header;
    gboolean     server_mini_header;
    gboolean     client_auth_selection;
    gboolean     server_auth_selection;
    guint32      auth_mechanism;   /* SPICE_COMMON_CAP_AUTH_*, 0 until chosen */
    gboolean     mid_connection;   /* claimed without seeing the link phase */
    spicemig_pos_t claim_seq;      /* mid-connection: the message that claimed it */
    gboolean     claim_from_server;
    gboolean     full_header_inferred; /* mid-connection: header format guessed */
    gboolean     builtin_lost;     /* a link message could not be handed over ... */
    guint32      builtin_lost_frame; /* ... in this frame: nothing after it is */
    gboolean     builtin_called;   /* the built-in has made itself the conversation's dissector */
    spicemig_analysis_conn_t *analysis; /* sessions and migrations across connections */
    spicemig_agent_conn_t *agent;  /* main channel: the guest agent's messages in progress */
    dissector_handle_t carrier;    /* the conversation's dissector: ours on TCP, TLS's on TLS */
    gboolean     over_tls;         /* positions from spicemig-tls.c: no 32-bit wrap */
    const char  *protocol_label;   /* "SPICE <channel>", made once per channel type */
    guint8       protocol_label_channel;
} spicemig_conv_t;

/* Per frame, packet scope only: what the built-in dissector has been given in
 * this frame. It records its state once per frame, so after a link-phase
 * message nothing else of that frame may be handed to it. */
typedef enum {
    BUILTIN_NOTHING_YET = 0,
    BUILTIN_GOT_LINK,
    BUILTIN_GOT_DATA
} builtin_frame_t;

/* One message's Info entry, "<channel> <name><details>", kept in its parts so
 * that the common case (a plain name, repeated) costs no formatting. */
typedef struct {
    const char *channel;
    const char *name;
    const char *details;  /* " <hop> <summary> [<problem>]", NULL when none */
} info_entry_t;

/* What one frame shows (packet scope): its one spicemig item, what the
 * built-in has been given, and the Info column being composed. */
typedef struct {
    spicemig_frame_notes_t notes; /* first: the note-taker finds it by the view's key */
    proto_item     *item;
    proto_tree     *tree;
    proto_tree     *builtin_tree; /* where the built-in adds its decoding */
    gboolean        shown;        /* the columns or a tree that reads spicemig's items */
    builtin_frame_t builtin;
    const char     *info_prefix; /* what TCP had fenced off in the Info column */
    wmem_strbuf_t  *info;        /* the entries before `last` */
    info_entry_t    last;        /* the latest entry, repeated `last_count` times */
    guint           last_count;
    guint           messages;
    /* The names the built-in's messages of this frame have a
     * spicemig.msg.name for. */
    const char     *named[MAX_NAMED_PER_FRAME];
    guint           named_count;
} frame_view_t;

/* A server endpoint known to speak SPICE (see know_server()). */
typedef struct {
    address addr;
    guint32 port;
} server_t;

/* Every server spicemig has claimed a connection to -> itself, file scope. */
static wmem_map_t *spice_servers;

static dissector_handle_t spicemig_handle;
static dissector_handle_t close_watch_handle;
static gboolean close_watch_registered;
static void watch_closes_once_needed(void);
static dissector_handle_t spicemig_vnc_ports_handle;
static dissector_handle_t builtin_spice_handle;
static dissector_handle_t vnc_handle;
/* The built-in is called through a private table because only a table
 * lookup can call a dissector without adding its protocol layer again. */
static dissector_table_t builtin_table;
static int proto_builtin_spice = -1;
static int proto_expert_info = -1;
static int proto_tcp = -1;
static int frame_tap = -1;

static spicemig_pref_bool_t pref_take_vnc_ports = TRUE;

static int hf_direction = -1;
static int hf_channel_type = -1;
static int hf_channel_id = -1;
static int hf_msg_serial = -1;
static int hf_msg_type = -1;
static int hf_msg_name = -1;
static int hf_hop_ascii = -1;
static int hf_msg_size = -1;
static int hf_msg_sub_list = -1;
static int hf_msg_body = -1;
static int hf_link_kind = -1;
static int hf_link_major = -1;
static int hf_link_minor = -1;
static int hf_link_size = -1;
static int hf_link_connection_id = -1;
static int hf_link_error = -1;
static int hf_link_auth_mechanism = -1;
static int hf_link_ticket = -1;
static int hf_link_result = -1;
static int hf_mini_header_negotiated = -1;
static int hf_undecoded = -1;

static gint ett_spicemig = -1;
static gint ett_header = -1;
static gint ett_message = -1;

static expert_field ei_mid_connection;
static expert_field ei_unsynced;
static expert_field ei_link_size;
static expert_field ei_link_caps;
static expert_field ei_msg_size;
static expert_field ei_sasl;
static expert_field ei_builtin_lost;
static expert_field ei_not_desegmented;

static const true_false_string tfs_direction = { "Server to client", "Client to server" };

/* Link-phase messages as the Info column names them, after SPICE's structures. */
static const value_string link_name_vals[] = {
    { PHASE_CLIENT_LINK, "LINK_MESS" },
    { PHASE_AUTH_SELECT, "AUTH_MECHANISM" },
    { PHASE_TICKET,      "TICKET" },
    { PHASE_SERVER_LINK, "LINK_REPLY" },
    { PHASE_LINK_RESULT, "LINK_RESULT" },
    { 0, NULL }
};

static const value_string link_kind_vals[] = {
    { PHASE_CLIENT_LINK, "Client link message" },
    { PHASE_AUTH_SELECT, "Authentication mechanism selection" },
    { PHASE_TICKET,      "Encrypted ticket" },
    { PHASE_SERVER_LINK, "Server link reply" },
    { PHASE_LINK_RESULT, "Link result" },
    { 0, NULL }
};

static const value_string auth_mechanism_vals[] = {
    { SPICE_COMMON_CAP_AUTH_SPICE, "SPICE ticket" },
    { SPICE_COMMON_CAP_AUTH_SASL,  "SASL" },
    { 0, NULL }
};

static inline gboolean
seq_ge(const spicemig_conv_t *conv, spicemig_pos_t a, spicemig_pos_t b)
{
    if (conv->over_tls)
        return a >= b;
    return (gint32)((guint32)a - (guint32)b) >= 0; /* TCP sequence numbers wrap */
}

static gboolean
is_from_server(const spicemig_conv_t *conv, const packet_info *pinfo)
{
    return pinfo->srcport == conv->server_port && addresses_equal(&pinfo->src, &conv->server_addr);
}

static guint
server_hash(gconstpointer key)
{
    const server_t *server = (const server_t *)key;

    return add_address_to_hash(server->port, &server->addr);
}

static gboolean
server_equal(gconstpointer a, gconstpointer b)
{
    const server_t *sa = (const server_t *)a, *sb = (const server_t *)b;

    return sa->port == sb->port && addresses_equal(&sa->addr, &sb->addr);
}

/* The first connection claimed to a server tells that the server speaks
 * SPICE. From then on TCP gives every new connection to that server,
 * whatever the client's address and port, to `carrier` (spicemig, or TLS for
 * a TLS port, whose heuristic then hands the SPICE inside to spicemig)
 * before it consults its port table: a template conversation with wildcard
 * client address and port, Wireshark's idiom for FTP data and RTP. Without
 * it a client port registered for another protocol (Linux picks client
 * ports from 32768-60999: 57000 is IRC's, as is 6667; 8080 HTTP's) takes
 * the connection. The template only goes first: claim() still turns down a
 * connection that is not SPICE, and TCP then carries on with its port table
 * and heuristics. Once per server and capture, on the first pass (the
 * conversations outlive it); a connection already open before (its TCP
 * conversation exists) is not affected. The conversations made from the
 * template share its dissector (conversation.c): nothing but that same
 * carrier may be set on them for longer than a call to the built-in. */
static void
know_server(packet_info *pinfo, const address *server_addr, guint32 server_port, dissector_handle_t carrier)
{
    server_t key, *known;
    conversation_t *any_client;

    if (pinfo->ptype != PT_TCP)
        return;
    key.addr = *server_addr;
    key.port = server_port;
    if (wmem_map_contains(spice_servers, &key))
        return;
    known = wmem_new(wmem_file_scope(), server_t);
    copy_address_wmem(wmem_file_scope(), &known->addr, server_addr);
    known->port = server_port;
    wmem_map_insert(spice_servers, known, known);
    any_client = conversation_new(pinfo->num, &known->addr, NULL, CONVERSATION_TCP, server_port, 0,
                                  SPICEMIG_CONV_ANY_CLIENT);
    conversation_set_dissector(any_client, carrier);
}

static spicemig_conv_t *
new_conv(packet_info *pinfo, conversation_t *conversation, const address *server_addr, guint32 server_port,
         dissector_handle_t carrier)
{
    spicemig_conv_t *conv = wmem_new0(wmem_file_scope(), spicemig_conv_t);

    copy_address_wmem(wmem_file_scope(), &conv->server_addr, server_addr);
    conv->server_port = server_port;
    conv->carrier = carrier;
    conv->over_tls = carrier != spicemig_handle;
    conversation_add_proto_data(conversation, proto_spicemig, conv);
    conversation_set_dissector(conversation, carrier);
    know_server(pinfo, server_addr, server_port, carrier);
    return conv;
}

/* The link message at index `index` of a direction, by the SPICE link
 * sequence: client link, [auth selection], ticket; server link, link result. */
static stream_phase_t
link_phase_at_index(const spicemig_conv_t *conv, gboolean from_server, guint index)
{
    if (from_server) {
        if (index == 0)
            return PHASE_SERVER_LINK;
        if (index == 1)
            return conv->auth_mechanism == SPICE_COMMON_CAP_AUTH_SASL ? PHASE_SASL : PHASE_LINK_RESULT;
        return PHASE_DATA;
    }
    if (index == 0)
        return PHASE_CLIENT_LINK;
    if (index == 1)
        return conv->client_auth_selection && conv->server_auth_selection ? PHASE_AUTH_SELECT : PHASE_TICKET;
    if (index == 2 && conv->client_auth_selection && conv->server_auth_selection)
        return conv->auth_mechanism == SPICE_COMMON_CAP_AUTH_SASL ? PHASE_SASL : PHASE_TICKET;
    return PHASE_DATA;
}

static stream_phase_t
phase_at(const spicemig_conv_t *conv, gboolean from_server, spicemig_pos_t seq)
{
    const direction_t *dir = &conv->dir[from_server];
    guint i;

    if (dir->data_known && seq_ge(conv, seq, dir->data_seq)) {
        /* Where the framing was lost, the bad link message itself. */
        if (dir->data_phase == PHASE_UNFRAMED && seq == dir->data_seq)
            return link_phase_at_index(conv, from_server, dir->link_count);
        return dir->data_phase;
    }
    for (i = 0; i < dir->link_count; i++) {
        if (dir->link_seq[i] == seq)
            return link_phase_at_index(conv, from_server, i);
    }
    if (conv->mid_connection)
        return PHASE_UNSYNCED;
    return link_phase_at_index(conv, from_server, dir->link_count);
}

/* First pass: remember where a link message started and, after the last
 * one, where the data phase starts. */
static void
record_link_message(spicemig_conv_t *conv, gboolean from_server, spicemig_pos_t seq, guint32 len)
{
    direction_t *dir = &conv->dir[from_server];
    stream_phase_t next;
    guint i;

    for (i = 0; i < dir->link_count; i++) {
        if (dir->link_seq[i] == seq)
            return;
    }
    if (dir->link_count == MAX_LINK_MESSAGES)
        return;
    dir->link_seq[dir->link_count++] = seq;
    next = link_phase_at_index(conv, from_server, dir->link_count);
    if (next == PHASE_DATA || next == PHASE_SASL) {
        dir->data_known = TRUE;
        dir->data_seq = seq + len;
        dir->data_phase = next;
    }
}

/* First pass: a link message of impossible size leaves no message boundary
 * in this direction, and the built-in dissector, which would read it as a
 * link message, is given nothing more of the connection. */
static void
lose_framing(spicemig_conv_t *conv, gboolean from_server, spicemig_pos_t seq, guint32 frame)
{
    conv->dir[from_server].data_known = TRUE;
    conv->dir[from_server].data_seq = seq;
    conv->dir[from_server].data_phase = PHASE_UNFRAMED;
    if (!conv->builtin_lost) {
        conv->builtin_lost = TRUE;
        conv->builtin_lost_frame = frame;
    }
}

static void
start_data_phase(spicemig_conv_t *conv, gboolean from_server, spicemig_pos_t seq)
{
    conv->dir[from_server].data_known = TRUE;
    conv->dir[from_server].data_seq = seq;
    conv->dir[from_server].data_phase = PHASE_DATA;
}

/* Where the type (u16) sits in a data header; the size (u32) follows it. */
static inline int
header_type_offset(guint32 header_len)
{
    return header_len == FULL_HEADER_LEN ? 8 : 0;
}

static gboolean
mini_header(const spicemig_conv_t *conv)
{
    if (conv->mid_connection)
        return !conv->full_header_inferred;
    return conv->client_mini_header && conv->server_mini_header;
}

/* Packet-scope proto data is keyed by protocol layer too, and TCP may call
 * spicemig several times in one frame, each time at another layer: the one
 * view of the frame is kept at layer 0. */
static frame_view_t *
find_frame_view(packet_info *pinfo)
{
    guint8 layer = pinfo->curr_layer_num;
    frame_view_t *view;

    pinfo->curr_layer_num = 0;
    view = (frame_view_t *)p_get_proto_data(pinfo->pool, pinfo, proto_spicemig, SPICEMIG_KEY_FRAME_VIEW);
    pinfo->curr_layer_num = layer;
    return view;
}

/* A tree built only for what a filter names, none of it spicemig's or an
 * expert's, with no protocol hierarchy to count (a "frame" tap): spicemig
 * adds nothing to it, and the built-in dissects onto it as it does alone, so
 * that `tshark -Y spice...` costs what it costs without spicemig. */
static gboolean
tree_read_without_spicemig(proto_tree *tree)
{
    return tree && !proto_field_is_referenced(tree, proto_spicemig)
           && !(proto_expert_info > 0 && proto_field_is_referenced(tree, proto_expert_info))
           && !(frame_tap >= 0 && have_tap_listener(frame_tap));
}

/* The frame's view, with its one top-level spicemig item, created at the
 * frame's first message: direction and channel, then every message as a
 * subtree of it. */
static frame_view_t *
frame_view(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const spicemig_conv_t *conv,
           gboolean from_server)
{
    frame_view_t *view = find_frame_view(pinfo);
    guint8 layer = pinfo->curr_layer_num;
    const char *fenced;
    proto_item *gen;

    if (view)
        return view;
    view = wmem_new0(pinfo->pool, frame_view_t);
    view->info = wmem_strbuf_new(pinfo->pool, "");
    pinfo->curr_layer_num = 0;
    p_add_proto_data(pinfo->pool, pinfo, proto_spicemig, SPICEMIG_KEY_FRAME_VIEW, view);
    pinfo->curr_layer_num = layer;
    /* What TCP fenced off in the Info column (e.g. "[TCP ZeroWindow] ")
     * stays in front of spicemig's text. */
    col_clear(pinfo->cinfo, COL_INFO);
    fenced = col_get_text(pinfo->cinfo, COL_INFO);
    view->info_prefix = fenced && *fenced ? wmem_strdup(pinfo->pool, fenced) : "";

    view->shown = pinfo->cinfo != NULL || proto_field_is_referenced(tree, proto_spicemig);
    if (tree_read_without_spicemig(tree)) {
        view->builtin_tree = tree;
        return view;
    }
    view->item = proto_tree_add_item(tree, proto_spicemig, tvb, 0, -1, ENC_NA);
    view->tree = proto_item_add_subtree(view->item, ett_spicemig);
    view->builtin_tree = view->tree;
    /* Hidden: the frame's item says direction and channel already; these
     * are for filters and columns. */
    gen = proto_tree_add_boolean(view->tree, hf_direction, tvb, 0, 0, from_server);
    proto_item_set_hidden(gen);
    if (conv->channel_type) {
        gen = proto_tree_add_uint(view->tree, hf_channel_type, tvb, 0, 0, conv->channel_type);
        proto_item_set_hidden(gen);
        gen = proto_tree_add_uint(view->tree, hf_channel_id, tvb, 0, 0, conv->channel_id);
        proto_item_set_hidden(gen);
    }
    spicemig_analysis_connection_items(view->tree, tvb, pinfo, conv->analysis);
    return view;
}

static void
append_info_entry(wmem_strbuf_t *text, const info_entry_t *entry, guint count)
{
    if (wmem_strbuf_get_len(text))
        wmem_strbuf_append(text, ", ");
    wmem_strbuf_append(text, entry->channel);
    wmem_strbuf_append_c(text, ' ');
    wmem_strbuf_append(text, entry->name);
    if (entry->details)
        wmem_strbuf_append(text, entry->details);
    if (count > 1) {
        char digits[11];   /* a guint32's and the NUL */

        spicemig_u32_to_str_buf(count, digits, sizeof(digits));
        wmem_strbuf_append(text, " " MULTIPLICATION_SIGN);
        wmem_strbuf_append(text, digits);
    }
}

static gboolean
same_info_entry(const info_entry_t *a, const info_entry_t *b)
{
    return a->channel == b->channel && (a->name == b->name || strcmp(a->name, b->name) == 0)
           && g_strcmp0(a->details, b->details) == 0;
}

/* The one place a message's Info text is composed:
 * "<Channel> <MESSAGE_NAME>[ <hop>][ <summary>][ [<problem>]]", where `hop`
 * (NULL for none) says which leg of a migration the message travels and the
 * problem is the message's first error. Consecutive identical texts collapse
 * into "... ×N". */
static void
add_message_info(packet_info *pinfo, frame_view_t *view, const spicemig_conv_t *conv,
                 const char *name, const char *hop, const char *summary)
{
    info_entry_t entry = { spicemig_channel_name(conv->channel_type), name, NULL };
    const char *problem = view->notes.problem;

    view->notes.problem = NULL;
    if (!view->shown)
        return;
    if (hop || (summary && *summary) || problem) {
        wmem_strbuf_t *details = wmem_strbuf_new(pinfo->pool, "");

        if (hop)
            wmem_strbuf_append_printf(details, " %s", hop);
        if (summary && *summary)
            wmem_strbuf_append_printf(details, " %s", summary);
        if (problem)
            wmem_strbuf_append_printf(details, " [%s]", problem);
        entry.details = wmem_strbuf_finalize(details);
    }

    view->messages++;
    if (view->last_count && same_info_entry(&view->last, &entry)) {
        view->last_count++;
        return;
    }
    if (view->last_count)
        append_info_entry(view->info, &view->last, view->last_count);
    view->last = entry;
    view->last_count = 1;
}

/* Writes the frame's columns and item text once its messages are known; the
 * built-in's column writes are overridden, so every frame names its channel
 * the same way. */
static void
show_frame_view(packet_info *pinfo, frame_view_t *view, spicemig_conv_t *conv, gboolean from_server)
{
    gsize entries_len;
    const char *info;

    /* A pass without columns or tree (tshark -2's first) shows nothing. */
    if (!view->shown)
        return;
    /* The latest entry is appended for the text and cut off again: more
     * messages of this frame may follow in a later call. */
    entries_len = wmem_strbuf_get_len(view->info);
    if (view->last_count)
        append_info_entry(view->info, &view->last, view->last_count);
    info = wmem_strbuf_get_str(view->info);
    /* TCP fences the column after each PDU it reassembled; the frame's text
     * replaces everything after TCP's own prefix. */
    col_clear_fence(pinfo->cinfo, COL_INFO);
    col_add_lstr(pinfo->cinfo, COL_INFO, view->info_prefix, info, COL_ADD_LSTR_TERMINATOR);
    if (!conv->protocol_label || conv->protocol_label_channel != conv->channel_type) {
        conv->protocol_label = conv->channel_type
            ? wmem_strdup_printf(wmem_file_scope(), "SPICE %s", spicemig_channel_name(conv->channel_type))
            : "SPICE";
        conv->protocol_label_channel = conv->channel_type;
    }
    col_set_str(pinfo->cinfo, COL_PROTOCOL, conv->protocol_label);
    if (conv->channel_type)
        proto_item_set_text(view->item, "SPICE Migration, %s channel %u, %s, %u message%s: %s",
                            spicemig_channel_name(conv->channel_type), conv->channel_id,
                            from_server ? "server to client" : "client to server",
                            view->messages, plurality(view->messages, "", "s"), info);
    else
        proto_item_set_text(view->item, "SPICE Migration, %s, %u message%s: %s",
                            from_server ? "server to client" : "client to server",
                            view->messages, plurality(view->messages, "", "s"), info);
    wmem_strbuf_truncate(view->info, entries_len);
}

/* Channels whose link reply the built-in SPICE dissector 4.0-4.6 flags
 * "Unknown channel - cannot dissect" (it has no capabilities table for
 * them): spicemig decodes their whole connection itself. */
static gboolean
builtin_knows_channel(guint8 channel_type)
{
    return channel_type != SPICE_CHANNEL_USBREDIR && channel_type != SPICE_CHANNEL_PORT
           && channel_type != SPICE_CHANNEL_WEBDAV;
}

/* spicemig.msg.name of a message the built-in decodes: hidden, a filter
 * alias like tcp.port (the built-in's tree under it shows the message), once
 * per name and frame, and only when a display filter, a custom column or a
 * coloring rule names the field. Not for a tree that is merely shown: there
 * it is invisible, and `-V` of a drawing session paid 0.75% more
 * instructions with an item per message, 0.3% with one per name and frame
 * (bench/: the 5% budget over the built-in alone was already at 4.9%).
 * tshark -T fields shows a tree without naming its fields: `-e` of it needs
 * a `-Y` that names it too. */
static void
add_builtin_message_name(frame_view_t *view, tvbuff_t *tvb, int offset, int len, const char *name)
{
    guint i;

    if (!view->tree || proto_registrar_get_nth(hf_msg_name)->ref_type == HF_REF_TYPE_NONE)
        return;
    for (i = 0; i < view->named_count; i++) {
        if (view->named[i] == name)
            return;
    }
    if (view->named_count < MAX_NAMED_PER_FRAME)
        view->named[view->named_count++] = name;
    proto_item_set_hidden(proto_tree_add_string(view->tree, hf_msg_name, tvb, offset, len, name));
}

/* Hands whole messages (one, or a run of server channel messages) to the
 * built-in SPICE dissector, its tree under the frame's spicemig item.
 * Returns FALSE when it cannot take them: the frame rule above, a link
 * message it missed earlier (its state machine is lost from there on), a
 * channel it does not know, or the dissector is disabled. */
static gboolean
hand_to_builtin(tvbuff_t *msg_tvb, packet_info *pinfo, proto_tree *tree, void *data,
                spicemig_conv_t *conv, frame_view_t *view, gboolean link_phase)
{
    gboolean first_in_frame = view->builtin == BUILTIN_NOTHING_YET;
    gboolean columns_writable = col_get_writable(pinfo->cinfo, -1);
    volatile int consumed = 0;

    if (!builtin_spice_handle || conv->mid_connection || !builtin_knows_channel(conv->channel_type)
        || (conv->builtin_lost && pinfo->num > conv->builtin_lost_frame)
        || view->builtin == BUILTIN_GOT_LINK || (link_phase && view->builtin == BUILTIN_GOT_DATA))
        return FALSE;
    if (first_in_frame)
        view->builtin = link_phase ? BUILTIN_GOT_LINK : BUILTIN_GOT_DATA;

    /* show_frame_view() writes the frame's columns: the built-in's writes
     * would be overwritten, so they are not made at all. */
    col_set_writable(pinfo->cinfo, -1, FALSE);
    /* One "spice" layer per frame (frame.protocols), however many messages
     * it is given: only the first call adds its protocol name. */
    TRY {
        consumed = spicemig_dissector_try_uint(builtin_table, BUILTIN_TABLE_KEY, msg_tvb, pinfo, view->builtin_tree,
                                                first_in_frame, data);
    }
    CATCH_NONFATAL_ERRORS {
        /* Its exception is about these messages: shown on them, while the
         * framing (and on the first pass, its state) goes on. */
        show_exception(msg_tvb, pinfo, view->builtin_tree, EXCEPT_CODE, GET_MESSAGE);
        consumed = tvb_captured_length(msg_tvb);
    }
    ENDTRY;
    col_set_writable(pinfo->cinfo, -1, columns_writable);
    /* Protocol Hierarchy counts top-level protocol items only: one hidden
     * "spice" item after spicemig's places the built-in's decoding, nested
     * in spicemig's tree, once per frame under spicemig. (Without a spicemig
     * item the built-in's own is top-level.) */
    if (first_in_frame && view->item && proto_builtin_spice > 0)
        proto_item_set_hidden(proto_tree_add_item(tree, proto_builtin_spice, msg_tvb, 0, -1, ENC_NA));
    /* It loops on its own framing and may leave a request behind; ours rules. */
    pinfo->desegment_offset = 0;
    pinfo->desegment_len = 0;
    if (!conv->builtin_called) {
        /* On its first call it makes itself the conversation's dissector. */
        conversation_set_dissector(find_or_create_conversation(pinfo), conv->carrier);
        conv->builtin_called = TRUE;
    }
    return consumed > 0;
}

/* Reads a link message's caps (SpiceLinkMess or SpiceLinkReply) into the
 * conversation and shows them. `fixed_start` is where the caps offset counts from. */
static void
dissect_link_caps(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, gboolean handed, spicemig_conv_t *conv,
                  gboolean from_server, int counts_offset, int fixed_start, guint32 msg_len)
{
    guint32 num_common = tvb_get_letohl(tvb, counts_offset);
    guint32 num_channel = tvb_get_letohl(tvb, counts_offset + 4);
    guint32 caps_offset = tvb_get_letohl(tvb, counts_offset + 8);
    guint32 common = 0;
    /* In 64 bits: an offset or count near 4 GiB must not wrap into the message. */
    guint64 caps_end = (guint64)fixed_start + caps_offset + 4 * ((guint64)num_common + num_channel);
    int caps_start;

    if (caps_end > msg_len) {
        /* Caps claimed past the message: show none rather than guess. */
        proto_tree_add_expert_format(tree, pinfo, &ei_link_caps, tvb, counts_offset, 12,
                                     "%u common + %u channel capability words at offset %u run past the "
                                     "%u-byte link message", num_common, num_channel, caps_offset, msg_len);
        spicemig_note_info_problem(pinfo, "capabilities run past the message");
        return;
    }
    caps_start = fixed_start + (int)caps_offset;
    if (num_common > 0)
        common = tvb_get_letohl(tvb, caps_start);
    /* Where the built-in decoded the message, it shows the caps. */
    spicemig_add_link_caps(handed ? NULL : tree, tvb, caps_start, num_common, num_channel, conv->channel_type);

    if (from_server) {
        conv->server_mini_header = (common >> SPICE_COMMON_CAP_MINI_HEADER) & 1;
        conv->server_auth_selection = (common >> SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION) & 1;
    } else {
        conv->client_mini_header = (common >> SPICE_COMMON_CAP_MINI_HEADER) & 1;
        conv->client_auth_selection = (common >> SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION) & 1;
    }
}

/* Bytes needed before a link message's length is known. */
static guint32
link_fixed_len(stream_phase_t phase)
{
    switch (phase) {
    case PHASE_CLIENT_LINK:
    case PHASE_SERVER_LINK:
        return LINK_HEADER_LEN;
    case PHASE_AUTH_SELECT:
        return AUTH_MECHANISM_LEN;
    case PHASE_TICKET:
        return TICKET_LEN;
    default:
        return LINK_RESULT_LEN;
    }
}

/* In 64 bits: a size near 4 GiB must not wrap to a few bytes. */
static guint64
link_message_len(tvbuff_t *tvb, int offset, stream_phase_t phase)
{
    if (phase == PHASE_CLIENT_LINK || phase == PHASE_SERVER_LINK)
        return (guint64)LINK_HEADER_LEN + tvb_get_letohl(tvb, offset + 12);
    return link_fixed_len(phase);
}

/* The smallest link message of a phase that holds its fixed fields. */
static guint32
link_min_len(stream_phase_t phase)
{
    if (phase == PHASE_CLIENT_LINK)
        return LINK_HEADER_LEN + LINK_MESS_LEN;
    if (phase == PHASE_SERVER_LINK)
        return LINK_HEADER_LEN + LINK_REPLY_LEN;
    return link_fixed_len(phase);
}

/* One link-phase message, `tvb` holding exactly it. Where the built-in
 * decodes it, spicemig adds only what it knows beyond it: the link phase and,
 * on the server's reply, whether the mini header is in use. */
static void
dissect_link_message(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data,
                     spicemig_conv_t *conv, gboolean from_server, stream_phase_t phase, spicemig_pos_t seq)
{
    guint32 len = tvb_reported_length(tvb);
    const char *name = val_to_str_const(phase, link_name_vals, "LINK");
    frame_view_t *view;
    proto_item *item, *gen;
    gboolean handed;
    proto_tree *subtree;

    if (!PINFO_FD_VISITED(pinfo)) {
        switch (phase) {
        case PHASE_CLIENT_LINK:
            conv->channel_type = spicemig_tvb_get_u8(tvb, LINK_HEADER_LEN + 4);
            conv->channel_id = spicemig_tvb_get_u8(tvb, LINK_HEADER_LEN + 5);
            spicemig_analysis_link(&conv->analysis, pinfo, tvb_get_letohl(tvb, LINK_HEADER_LEN), conv->channel_type,
                                   conv->channel_id, &conv->server_addr, conv->server_port);
            break;
        case PHASE_AUTH_SELECT:
            conv->auth_mechanism = tvb_get_letohl(tvb, 0);
            break;
        case PHASE_TICKET:
            conv->auth_mechanism = SPICE_COMMON_CAP_AUTH_SPICE;
            break;
        default:
            break;
        }
    }

    view = frame_view(tvb, pinfo, tree, conv, from_server);
    handed = hand_to_builtin(tvb, pinfo, tree, data, conv, view, TRUE);
    if (!handed && !PINFO_FD_VISITED(pinfo) && !conv->builtin_lost && builtin_knows_channel(conv->channel_type)) {
        conv->builtin_lost = TRUE;
        conv->builtin_lost_frame = pinfo->num;
    }

    subtree = proto_tree_add_subtree_format(view->tree, tvb, 0, len, ett_message, &item, "%s %s",
                                            spicemig_channel_name(conv->channel_type), name);
    if (!handed && conv->builtin_lost && pinfo->num == conv->builtin_lost_frame)
        expert_add_info(pinfo, item, &ei_builtin_lost);
    proto_item_set_generated(proto_tree_add_string(subtree, hf_msg_name, tvb, 0, 0, name));
    gen = proto_tree_add_uint(subtree, hf_link_kind, tvb, 0, 0, phase);
    proto_item_set_generated(gen);

    switch (phase) {
    case PHASE_CLIENT_LINK:
    case PHASE_SERVER_LINK:
        if (!handed) {
            proto_tree_add_item(subtree, hf_link_major, tvb, 4, 4, ENC_LITTLE_ENDIAN);
            proto_tree_add_item(subtree, hf_link_minor, tvb, 8, 4, ENC_LITTLE_ENDIAN);
            proto_tree_add_item(subtree, hf_link_size, tvb, 12, 4, ENC_LITTLE_ENDIAN);
        }
        if (phase == PHASE_CLIENT_LINK) {
            if (!handed) {
                proto_tree_add_item(subtree, hf_link_connection_id, tvb, LINK_HEADER_LEN, 4, ENC_LITTLE_ENDIAN);
                proto_tree_add_item(subtree, hf_channel_type, tvb, LINK_HEADER_LEN + 4, 1, ENC_NA);
                proto_tree_add_item(subtree, hf_channel_id, tvb, LINK_HEADER_LEN + 5, 1, ENC_NA);
            }
            if (len >= LINK_HEADER_LEN + LINK_MESS_LEN)
                dissect_link_caps(tvb, pinfo, subtree, handed, conv, FALSE, LINK_HEADER_LEN + 6,
                                  LINK_HEADER_LEN, len);
            spicemig_analysis_tap_link(conv->analysis, pinfo);
        } else if (len >= LINK_HEADER_LEN + 4) {
            proto_item *error_item = handed ? item : proto_tree_add_item(subtree, hf_link_error, tvb, LINK_HEADER_LEN,
                                                                          4, ENC_LITTLE_ENDIAN);

            spicemig_tls_check_link_error(pinfo, error_item, conv->channel_type,
                                          tvb_get_letohl(tvb, LINK_HEADER_LEN));
            spicemig_analysis_link_error(conv->analysis, tvb, pinfo, subtree, tvb_get_letohl(tvb, LINK_HEADER_LEN));
            if (len >= LINK_HEADER_LEN + LINK_REPLY_LEN)
                dissect_link_caps(tvb, pinfo, subtree, handed, conv, TRUE,
                                  LINK_HEADER_LEN + 4 + SPICE_TICKET_PUBKEY_BYTES, LINK_HEADER_LEN, len);
            gen = proto_tree_add_boolean(subtree, hf_mini_header_negotiated, tvb, 0, 0, mini_header(conv));
            proto_item_set_generated(gen);
        }
        break;
    case PHASE_AUTH_SELECT:
        if (!handed)
            proto_tree_add_item(subtree, hf_link_auth_mechanism, tvb, 0, 4, ENC_LITTLE_ENDIAN);
        break;
    case PHASE_TICKET:
        if (!handed)
            proto_tree_add_item(subtree, hf_link_ticket, tvb, 0, TICKET_LEN, ENC_NA);
        break;
    default:
        if (!handed)
            proto_tree_add_item(subtree, hf_link_result, tvb, 0, 4, ENC_LITTLE_ENDIAN);
        if (len >= 4)
            spicemig_analysis_link_error(conv->analysis, tvb, pinfo, subtree, tvb_get_letohl(tvb, 0));
        break;
    }
    add_message_info(pinfo, view, conv, name, NULL, NULL);

    if (!PINFO_FD_VISITED(pinfo))
        record_link_message(conv, from_server, seq, len);
}

/* spicemig.hop.ascii: the hop of a migrate-data body ("source→client") as
 * "source->client", for filters typed on a keyboard without "→". Hidden, a
 * filter alias like tcp.port: the hop is shown already. */
static void
add_hop_ascii(proto_tree *tree, tvbuff_t *body, packet_info *pinfo, const char *hop)
{
    if (!hop || !proto_field_is_referenced(tree, hf_hop_ascii))
        return;
    proto_item_set_hidden(proto_tree_add_string(tree, hf_hop_ascii, body, 0, 0,
                                                spicemig_hop_ascii(pinfo->pool, hop)));
}

/* A data-phase message spicemig shows itself: the migration messages, the
 * messages the built-in gets wrong, and any message the built-in cannot be
 * given. */
static void
dissect_own_message(tvbuff_t *tvb, packet_info *pinfo, frame_view_t *view, spicemig_conv_t *conv,
                    gboolean from_server, guint32 header_len, spicemig_pos_t seq)
{
    spicemig_msg_ctx_t ctx = { conv->channel_type, conv->channel_id, from_server, &conv->agent, seq };
    guint16 type = tvb_get_letohs(tvb, header_type_offset(header_len));
    guint32 size = tvb_reported_length(tvb) - header_len;
    const char *name = spicemig_message_name(&ctx, type);
    const char *summary = NULL, *hop;
    proto_item *item;
    proto_tree *subtree, *header_tree;
    int type_offset = header_type_offset(header_len);
    tvbuff_t *body;

    subtree = proto_tree_add_subtree_format(view->tree, tvb, 0, -1, ett_message, &item, "%s %s",
                                            spicemig_channel_name(conv->channel_type), name);
    proto_item_set_generated(proto_tree_add_string(subtree, hf_msg_name, tvb, 0, 0, name));
    if (conv->mid_connection && from_server == conv->claim_from_server && seq == conv->claim_seq)
        expert_add_info(pinfo, item, &ei_mid_connection);
    header_tree = proto_tree_add_subtree(subtree, tvb, 0, header_len, ett_header, NULL,
                                         header_len == FULL_HEADER_LEN ? "Data header" : "Mini data header");
    if (header_len == FULL_HEADER_LEN)
        proto_tree_add_item(header_tree, hf_msg_serial, tvb, 0, 8, ENC_LITTLE_ENDIAN);
    proto_tree_add_uint_format_value(header_tree, hf_msg_type, tvb, type_offset, 2, type, "%s (%u)", name, type);
    proto_tree_add_item(header_tree, hf_msg_size, tvb, type_offset + 2, 4, ENC_LITTLE_ENDIAN);
    if (header_len == FULL_HEADER_LEN)
        proto_tree_add_item(header_tree, hf_msg_sub_list, tvb, 14, 4, ENC_LITTLE_ENDIAN);

    body = tvb_new_subset_length(tvb, header_len, size);
    if ((from_server && type == SPICE_MSG_MIGRATE_DATA) || (!from_server && type == SPICE_MSGC_MIGRATE_DATA)) {
        summary = spicemig_dissect_migrate_data(body, pinfo, subtree, &ctx);
        if (!PINFO_FD_VISITED(pinfo) && conv->channel_type == 0 && size >= 4)
            conv->channel_type = spicemig_migrate_data_channel(tvb_get_letohl(body, 0));
    } else if (spicemig_is_migration_message(&ctx, type)) {
        summary = spicemig_dissect_control(body, pinfo, subtree, &ctx, type);
    } else if (spicemig_replaces_builtin(&ctx, type)) {
        summary = spicemig_dissect_replacement(body, pinfo, subtree, &ctx, type);
    } else if (size > 0) {
        proto_tree_add_item(subtree, hf_msg_body, body, 0, size, ENC_NA);
    }
    hop = spicemig_analysis_message(&conv->analysis, tvb, 0, (int)tvb_reported_length(tvb), header_len, body, pinfo,
                                    view->tree, subtree, &ctx, type, &conv->server_addr, conv->server_port);
    add_hop_ascii(subtree, body, pinfo, hop);
    watch_closes_once_needed();
    add_message_info(pinfo, view, conv, name, hop, summary);
}

/* Plausible start of a data message for a direction we are not in sync with. */
static gboolean
plausible_message_start(tvbuff_t *tvb, int offset, const spicemig_conv_t *conv, gboolean from_server)
{
    spicemig_msg_ctx_t ctx = { conv->channel_type, conv->channel_id, from_server, NULL, 0 };
    guint32 header_len = mini_header(conv) ? MINI_HEADER_LEN : FULL_HEADER_LEN;
    int type_offset = offset + header_type_offset(header_len);
    guint16 type;

    if (tvb_captured_length_remaining(tvb, offset) < (gint)header_len)
        return FALSE;
    type = tvb_get_letohs(tvb, type_offset);
    if (tvb_get_letohl(tvb, type_offset + 2) > MAX_MESSAGE_BODY)
        return FALSE;
    if (header_len == FULL_HEADER_LEN && tvb_get_letohl(tvb, type_offset + 6) != 0)
        return FALSE;
    return spicemig_message_known(&ctx, type);
}

/* A server message of a channel's own types (101 and up): the built-in moves
 * on to the next header by its size whatever it decodes of the body, so a
 * run of them can be handed over in one call, as it sees them without
 * spicemig (it does not re-frame common or client messages). */
static gboolean
builtin_reframes(gboolean from_server, guint16 type)
{
    return from_server && type > SPICE_MSG_BASE_LAST;
}

/* The messages between `start` and `end` of `tvb`, each whole: handed to the
 * built-in in one call (a call costs the built-in what a frame does), then
 * named in Info one by one; shown by spicemig itself when it cannot take them. */
static void
hand_run_to_builtin(tvbuff_t *tvb, int start, int end, spicemig_pos_t tvb_seq, packet_info *pinfo,
                    proto_tree *tree, void *data, spicemig_conv_t *conv, frame_view_t *view,
                    gboolean from_server, guint32 header_len)
{
    spicemig_msg_ctx_t ctx = { conv->channel_type, conv->channel_id, from_server, NULL, 0 };
    int type_offset = header_type_offset(header_len);
    tvbuff_t *run_tvb;
    gboolean handed;

    if (start == end)   /* `view` is NULL before the frame's first whole message */
        return;
    /* Mostly the whole segment: no subset needed then. */
    run_tvb = start == 0 && end == (int)tvb_reported_length(tvb) ? tvb : tvb_new_subset_length(tvb, start, end - start);
    handed = hand_to_builtin(run_tvb, pinfo, tree, data, conv, view, FALSE);
    while (start < end) {
        guint16 type = tvb_get_letohs(tvb, start + type_offset);
        int len = (int)header_len + (int)tvb_get_letohl(tvb, start + type_offset + 2);

        if (handed) {
            const char *name = spicemig_message_name(&ctx, type);

            spicemig_analysis_follow_message(conv->analysis, tvb, start, len, header_len, pinfo, view->tree, &ctx,
                                             type);
            add_builtin_message_name(view, tvb, start, len, name);
            add_message_info(pinfo, view, conv, name, NULL, NULL);
        } else
            dissect_own_message(tvb_new_subset_length(tvb, start, len), pinfo, view, conv, from_server, header_len,
                                tvb_seq + (guint32)start);
        start += len;
    }
}

static int
dissect_data_messages(tvbuff_t *tvb, int offset, spicemig_pos_t tvb_seq, packet_info *pinfo, proto_tree *tree,
                      void *data, spicemig_conv_t *conv, gboolean from_server)
{
    guint32 header_len = mini_header(conv) ? MINI_HEADER_LEN : FULL_HEADER_LEN;
    int type_offset = header_type_offset(header_len);
    int run_start = offset;   /* the messages from here on wait to be handed over together */
    frame_view_t *view = NULL;
    guint remaining;

    while ((remaining = tvb_reported_length_remaining(tvb, offset)) > 0) {
        spicemig_msg_ctx_t ctx = { conv->channel_type, conv->channel_id, from_server, NULL, 0 };
        guint64 msg_len;
        guint16 type;
        gboolean shown_by_spicemig;

        if (remaining < header_len) {
            hand_run_to_builtin(tvb, run_start, offset, tvb_seq, pinfo, tree, data, conv, view, from_server,
                                header_len);
            /* After the hand-over, which clears the built-in's requests. */
            pinfo->desegment_offset = offset;
            pinfo->desegment_len = header_len - remaining;
            return offset;
        }
        msg_len = (guint64)header_len + tvb_get_letohl(tvb, offset + type_offset + 2);
        type = tvb_get_letohs(tvb, offset + type_offset);
        if (msg_len > header_len + MAX_MESSAGE_BODY) {
            if (!view)
                view = frame_view(tvb, pinfo, tree, conv, from_server);
            hand_run_to_builtin(tvb, run_start, offset, tvb_seq, pinfo, tree, data, conv, view, from_server,
                                header_len);
            proto_tree_add_expert_format(view->tree, pinfo, &ei_msg_size, tvb, offset, remaining,
                                         "%s claims a %" PRIu64 "-byte body, more than the %u bytes of any "
                                         "SPICE message; not SPICE framing",
                                         spicemig_message_name(&ctx, type), msg_len - header_len, MAX_MESSAGE_BODY);
            spicemig_note_info_problem(pinfo, "message size implausible");
            add_message_info(pinfo, view, conv, spicemig_message_name(&ctx, type), NULL, NULL);
            return offset + remaining;
        }
        if (msg_len > remaining) {
            hand_run_to_builtin(tvb, run_start, offset, tvb_seq, pinfo, tree, data, conv, view, from_server,
                                header_len);
            if (pinfo->can_desegment) {
                pinfo->desegment_offset = offset;
                pinfo->desegment_len = (guint32)(msg_len - remaining);
                return offset;
            }
            if (!view)
                view = frame_view(tvb, pinfo, tree, conv, from_server);
            proto_tree_add_expert_format(view->tree, pinfo, &ei_not_desegmented, tvb, offset, remaining,
                                         "Message of %" PRIu64 " bytes, only %u in this segment "
                                         "(TCP reassembly is off or impossible)", msg_len, remaining);
            return offset + remaining;
        }
        /* The frame's view is made at its first whole message. */
        if (!view)
            view = frame_view(tvb, pinfo, tree, conv, from_server);
        shown_by_spicemig = spicemig_is_migration_message(&ctx, type) || spicemig_replaces_builtin(&ctx, type);
        if (!shown_by_spicemig && builtin_reframes(from_server, type)) {
            offset += (int)msg_len;
            continue;
        }
        hand_run_to_builtin(tvb, run_start, offset, tvb_seq, pinfo, tree, data, conv, view, from_server, header_len);
        if (shown_by_spicemig) {
            dissect_own_message(tvb_new_subset_length(tvb, offset, (gint)msg_len), pinfo, view, conv, from_server,
                                header_len, tvb_seq + (guint32)offset);
        } else {
            /* One message the built-in does not re-frame: a run of its own. */
            hand_run_to_builtin(tvb, offset, offset + (int)msg_len, tvb_seq, pinfo, tree, data, conv, view,
                                from_server, header_len);
        }
        offset += (int)msg_len;
        run_start = offset;
    }
    hand_run_to_builtin(tvb, run_start, offset, tvb_seq, pinfo, tree, data, conv, view, from_server, header_len);
    return offset;
}

/* Frames the messages of one TCP segment or TLS record (or reassembled run
 * of them) starting at stream position `tvb_seq`; returns the bytes framed. */
static int
frame_messages(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data, spicemig_pos_t tvb_seq,
               spicemig_conv_t *conv, gboolean from_server)
{
    frame_view_t *view;
    int offset = 0;

    while (tvb_reported_length_remaining(tvb, offset) > 0) {
        spicemig_pos_t seq = tvb_seq + (guint32)offset;
        stream_phase_t phase = phase_at(conv, from_server, seq);
        guint remaining = tvb_reported_length_remaining(tvb, offset);
        guint64 len;

        if (phase == PHASE_DATA)
            return dissect_data_messages(tvb, offset, tvb_seq, pinfo, tree, data, conv, from_server);

        if (phase == PHASE_UNFRAMED) {
            view = frame_view(tvb, pinfo, tree, conv, from_server);
            proto_tree_add_item(view->tree, hf_undecoded, tvb, offset, -1, ENC_NA);
            add_message_info(pinfo, view, conv, "unframed bytes after a link message of impossible size", NULL, NULL);
            return tvb_reported_length(tvb);
        }

        if (phase == PHASE_SASL) {
            frame_view_t *view = frame_view(tvb, pinfo, tree, conv, from_server);

            proto_tree_add_expert(view->tree, pinfo, &ei_sasl, tvb, offset, -1);
            if (!hand_to_builtin(tvb_new_subset_remaining(tvb, offset), pinfo, tree, data, conv, view, FALSE))
                proto_tree_add_item(view->tree, hf_undecoded, tvb, offset, -1, ENC_NA);
            add_message_info(pinfo, view, conv, "SASL data", NULL, NULL);
            return tvb_reported_length(tvb);
        }

        if (phase == PHASE_UNSYNCED) {
            if (plausible_message_start(tvb, offset, conv, from_server)) {
                if (!PINFO_FD_VISITED(pinfo))
                    start_data_phase(conv, from_server, seq);
                return dissect_data_messages(tvb, offset, tvb_seq, pinfo, tree, data, conv, from_server);
            }
            view = frame_view(tvb, pinfo, tree, conv, from_server);
            proto_tree_add_expert(view->tree, pinfo, &ei_unsynced, tvb, offset, -1);
            add_message_info(pinfo, view, conv, "continuation of a message begun before the capture", NULL, NULL);
            return tvb_reported_length(tvb);
        }

        /* Link phase. */
        if (remaining < link_fixed_len(phase)) {
            pinfo->desegment_offset = offset;
            pinfo->desegment_len = link_fixed_len(phase) - remaining;
            return offset;
        }
        len = link_message_len(tvb, offset, phase);
        if (len > LINK_HEADER_LEN + MAX_LINK_BODY || len < link_min_len(phase)) {
            view = frame_view(tvb, pinfo, tree, conv, from_server);
            proto_tree_add_expert_format(view->tree, pinfo, &ei_link_size, tvb, offset, -1,
                                         "%s claims %" PRIu64 " bytes (%u to %u); not SPICE framing",
                                         val_to_str_const(phase, link_kind_vals, "Link message"), len,
                                         link_min_len(phase), LINK_HEADER_LEN + MAX_LINK_BODY);
            if (!PINFO_FD_VISITED(pinfo))
                lose_framing(conv, from_server, seq, pinfo->num);
            spicemig_note_info_problem(pinfo, "link message size implausible");
            add_message_info(pinfo, view, conv, val_to_str_const(phase, link_name_vals, "LINK"), NULL, NULL);
            return tvb_reported_length(tvb);
        }
        if (remaining < len) {
            pinfo->desegment_offset = offset;
            pinfo->desegment_len = (guint32)(len - remaining);
            return offset;
        }
        dissect_link_message(tvb_new_subset_length(tvb, offset, (gint)len), pinfo, tree, data,
                             conv, from_server, phase, seq);
        offset += (int)len;
    }
    return offset;
}

/* The connection spicemig has claimed, or NULL: one look-up per segment. */
static spicemig_conv_t *
conv_of(packet_info *pinfo)
{
    conversation_t *conversation = find_conversation_pinfo(pinfo, 0);

    return conversation ? (spicemig_conv_t *)conversation_get_proto_data(conversation, proto_spicemig) : NULL;
}

static int
dissect_claimed(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data, spicemig_pos_t pos,
                spicemig_conv_t *conv)
{
    gboolean from_server = is_from_server(conv, pinfo);
    int consumed = frame_messages(tvb, pinfo, tree, data, pos, conv, from_server);
    frame_view_t *view = find_frame_view(pinfo);

    if (view)
        show_frame_view(pinfo, view, conv, from_server);
    return consumed;
}

int
spicemig_stream_dissect(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data, spicemig_pos_t pos)
{
    spicemig_conv_t *conv = conv_of(pinfo);

    return conv ? dissect_claimed(tvb, pinfo, tree, data, pos, conv) : 0;
}

static int
dissect_spicemig_stream(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data, spicemig_conv_t *conv)
{
    struct tcpinfo *tcpinfo = (struct tcpinfo *)data;
    int consumed = tcpinfo ? dissect_claimed(tvb, pinfo, tree, data, tcpinfo->seq, conv) : 0;

    /* Asking TCP for more data counts as taking the whole segment. */
    return pinfo->desegment_len ? (int)tvb_captured_length(tvb) : consumed;
}

/* A data message header at the start of `tvb` that only a migration can
 * produce: MIGRATE_DATA with a known magic, or MIGRATE with valid flags.
 * Sets *from_server and *full_header when it matches. */
static gboolean
looks_like_migration_start(tvbuff_t *tvb, packet_info *pinfo, gboolean *from_server, gboolean *full_header)
{
    static const guint32 header_lens[] = { MINI_HEADER_LEN, FULL_HEADER_LEN };
    guint i;

    for (i = 0; i < G_N_ELEMENTS(header_lens); i++) {
        guint32 header_len = header_lens[i];
        int type_offset = header_type_offset(header_len);
        guint16 type;
        guint32 size;

        if (tvb_captured_length(tvb) < header_len + 4)
            continue;
        if (header_len == FULL_HEADER_LEN && tvb_get_letohl(tvb, 14) != 0)
            continue;
        type = tvb_get_letohs(tvb, type_offset);
        size = tvb_get_letohl(tvb, type_offset + 2);
        *full_header = header_len == FULL_HEADER_LEN;
        if ((type == SPICE_MSG_MIGRATE_DATA || type == SPICE_MSGC_MIGRATE_DATA)
            && spicemig_migrate_data_plausible(tvb, header_len, size)) {
            *from_server = type == SPICE_MSG_MIGRATE_DATA;
            return TRUE;
        }
        /* Client ACK_SYNC has the same number and size: a server listens on
         * the lower port, a client connects from an ephemeral one. */
        if (type == SPICE_MSG_MIGRATE && size == 4 && pinfo->srcport < pinfo->destport) {
            guint32 flags = tvb_get_letohl(tvb, header_len);
            if (flags != 0 && (flags & ~(guint32)SPICE_MIGRATE_FLAGS_MASK) == 0) {
                *from_server = TRUE;
                return TRUE;
            }
        }
    }
    return FALSE;
}

/* Whether the segment is a run of whole data messages with `header_len`
 * headers (mini or full), ending exactly at its end. */
static gboolean
whole_messages(tvbuff_t *tvb, guint32 header_len)
{
    guint32 len = tvb_captured_length(tvb);
    guint32 offset = 0;
    int type_offset = header_type_offset(header_len);

    while (offset < len) {
        guint16 type;
        guint32 size;

        if (len - offset < header_len)
            return FALSE;
        type = tvb_get_letohs(tvb, offset + type_offset);
        size = tvb_get_letohl(tvb, offset + type_offset + 2);
        if (type == 0 || type > MAX_MESSAGE_TYPE || size > len - offset - header_len
            || (header_len == FULL_HEADER_LEN && tvb_get_letohl(tvb, offset + type_offset + 6) != 0))
            return FALSE;
        offset += header_len + size;
    }
    return TRUE;
}

/* A segment of a connection nobody has claimed, to or from a server already
 * seen speaking SPICE, that holds whole data messages: a connection the
 * capture caught mid-way. Sets the direction and header format. */
static gboolean
known_server_segment(tvbuff_t *tvb, packet_info *pinfo, gboolean *from_server, gboolean *full_header)
{
    server_t src = { pinfo->src, pinfo->srcport }, dst = { pinfo->dst, pinfo->destport };

    /* O(1) for every segment of a connection nobody has claimed: two look-ups. */
    if (wmem_map_contains(spice_servers, &src))
        *from_server = TRUE;
    else if (wmem_map_contains(spice_servers, &dst))
        *from_server = FALSE;
    else
        return FALSE;
    if (whole_messages(tvb, MINI_HEADER_LEN)) {
        *full_header = FALSE;
        return TRUE;
    }
    if (whole_messages(tvb, FULL_HEADER_LEN)) {
        *full_header = TRUE;
        return TRUE;
    }
    return FALSE;
}

/* Claims the connection when `tvb` (at stream position `seq`) starts a SPICE
 * connection or, in a capture begun mid-connection, a migration. `carrier`
 * is the dissector that hands spicemig the bytes: its own (TCP) or TLS's. */
static spicemig_conv_t *
claim(tvbuff_t *tvb, packet_info *pinfo, spicemig_pos_t seq, dissector_handle_t carrier)
{
    conversation_t *conversation;
    spicemig_conv_t *conv;
    gboolean from_server, full_header;

    if (tvb_captured_length(tvb) >= LINK_HEADER_LEN && tvb_get_ntohl(tvb, 0) == SPICE_MAGIC_BE
        && tvb_get_letohl(tvb, 4) == SPICE_VERSION_MAJOR) {
        conversation = find_or_create_conversation(pinfo);
        return new_conv(pinfo, conversation, &pinfo->dst, pinfo->destport, carrier);
    }
    if (!looks_like_migration_start(tvb, pinfo, &from_server, &full_header)
        && !known_server_segment(tvb, pinfo, &from_server, &full_header))
        return NULL;
    conversation = find_or_create_conversation(pinfo);
    conv = new_conv(pinfo, conversation, from_server ? &pinfo->src : &pinfo->dst,
                    from_server ? pinfo->srcport : pinfo->destport, carrier);
    conv->mid_connection = TRUE;
    conv->full_header_inferred = full_header;
    conv->claim_seq = seq;
    conv->claim_from_server = from_server;
    start_data_phase(conv, from_server, seq);
    return conv;
}

gboolean
spicemig_stream_claim(tvbuff_t *tvb, packet_info *pinfo, spicemig_pos_t seq, dissector_handle_t carrier)
{
    return claim(tvb, pinfo, seq, carrier) != NULL;
}

static spicemig_conv_t *
claim_connection(tvbuff_t *tvb, packet_info *pinfo, void *data)
{
    struct tcpinfo *tcpinfo = (struct tcpinfo *)data;

    return tcpinfo ? claim(tvb, pinfo, tcpinfo->seq, spicemig_handle) : NULL;
}

gboolean
spicemig_stream_owns(packet_info *pinfo)
{
    return conv_of(pinfo) != NULL;
}

static spicemig_heur_result_t
dissect_spicemig_heur(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    spicemig_conv_t *conv = claim_connection(tvb, pinfo, data);

    if (!conv)
        return FALSE;
    dissect_spicemig_stream(tvb, pinfo, tree, data, conv);
    return TRUE;
}

/* Postdissector: a SPICE connection closing. TCP hands nobody a FIN or RST
 * segment without payload, so its conversation state tells; only while a
 * migration is undecided, so that ordinary frames cost one test. */
static int
dissect_connection_close(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    conversation_t *conversation;
    const struct tcp_analysis *tcpd;
    spicemig_conv_t *conv;

    if (!PINFO_FD_VISITED(pinfo) && spicemig_analysis_watching_closes() && pinfo->ptype == PT_TCP
        && (conversation = find_conversation_pinfo(pinfo, 0))
        && (conv = (spicemig_conv_t *)conversation_get_proto_data(conversation, proto_spicemig)) && conv->analysis
        && (tcpd = (const struct tcp_analysis *)conversation_get_proto_data(conversation, proto_tcp))
        && (tcpd->conversation_completeness & (SPICEMIG_TCP_COMPLETENESS_FIN | SPICEMIG_TCP_COMPLETENESS_RST)))
        spicemig_analysis_connection_closed(conv->analysis, pinfo);
    spicemig_analysis_close_items(tree, tvb, pinfo);
    return 0;
}

/* A postdissector costs every frame of every capture: it is registered
 * once a migration is under way, from the migration message that began it
 * (it only matters while a migration is undecided), and stays. */
static void
watch_closes_once_needed(void)
{
    if (close_watch_registered || !spicemig_analysis_watching_closes())
        return;
    register_postdissector(close_watch_handle);
    close_watch_registered = TRUE;
}

/* TCP ports 5900-5901, the QEMU/libvirt defaults shared with VNC: keep SPICE
 * connections and TLS ones (libvirt's first SPICE tls-port is 5901), give
 * everything else to VNC unchanged. */
static int
dissect_spicemig_vnc_ports(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    spicemig_conv_t *conv = conv_of(pinfo);
    int tls_consumed;

    if (conv || (conv = claim_connection(tvb, pinfo, data)))
        return dissect_spicemig_stream(tvb, pinfo, tree, data, conv);
    if ((tls_consumed = spicemig_tls_dissect_handshake(tvb, pinfo, tree, data)) > 0)
        return tls_consumed;
    return vnc_handle ? call_dissector(vnc_handle, tvb, pinfo, tree) : 0;
}

/* Decode As: the user says this is SPICE, so any payload starts the stream. */
static int
dissect_spicemig_decode_as(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    spicemig_conv_t *conv = conv_of(pinfo);

    if (!conv && !(conv = claim_connection(tvb, pinfo, data)))
        return 0;
    return dissect_spicemig_stream(tvb, pinfo, tree, data, conv);
}

void
spicemig_register_stream(int proto, expert_module_t *expert, module_t *prefs)
{
    static hf_register_info hf[] = {
        { &hf_direction, { "Direction", "spicemig.direction", FT_BOOLEAN, BASE_NONE,
            TFS(&tfs_direction), 0x0, "Whether the frame goes from the server to the client (1) or back (0)", HFILL } },
        { &hf_channel_type, { "Channel type", "spicemig.channel.type", FT_UINT8, BASE_DEC,
            VALS(spicemig_channel_type_vals), 0x0, "Type of the connection's SPICE channel, from its link message", HFILL } },
        { &hf_channel_id, { "Channel id", "spicemig.channel.id", FT_UINT8, BASE_DEC,
            NULL, 0x0, "Id of the connection's SPICE channel among those of its type", HFILL } },
        { &hf_msg_serial, { "Message serial number", "spicemig.msg.serial", FT_UINT64, BASE_DEC,
            NULL, 0x0, "Serial number in the full data header (no mini header carries one)", HFILL } },
        { &hf_msg_type, { "Message type", "spicemig.msg.type", FT_UINT16, BASE_DEC,
            NULL, 0x0, "Type of a message spicemig decodes itself; names depend on channel and direction", HFILL } },
        { &hf_msg_name, { "Message name", "spicemig.msg.name", FT_STRING, BASE_NONE,
            NULL, 0x0, "Name of every message spicemig frames, as the Info column names it: the same in both "
            "directions (MIGRATE_DATA is type 2 from the server, 5 from the client). Where the built-in SPICE "
            "dissector decodes the messages: hidden, once per name and frame, only when a filter names the field "
            "(with tshark -T fields: -Y spicemig.msg.name -e spicemig.msg.name)", HFILL } },
        { &hf_hop_ascii, { "Hop (ASCII)", "spicemig.hop.ascii", FT_STRING, BASE_NONE,
            NULL, 0x0, "spicemig.hop spelled with \"->\" for its arrow, for typing filters: \"source->client\", "
            "\"client->destination\" (hidden)", HFILL } },
        { &hf_msg_size, { "Message size", "spicemig.msg.size", FT_UINT32, BASE_DEC | BASE_UNIT_STRING,
            &units_byte_bytes, 0x0, "Body size, without the header", HFILL } },
        { &hf_msg_sub_list, { "Sub-message list offset", "spicemig.msg.sub_list", FT_UINT32, BASE_DEC,
            NULL, 0x0, "Offset of the sub-message list in the full data header, 0 for none", HFILL } },
        { &hf_msg_body, { "Message body", "spicemig.msg.body", FT_BYTES, BASE_NONE,
            NULL, 0x0, "Body of a message spicemig names but does not decode further", HFILL } },
        { &hf_link_kind, { "Link phase", "spicemig.link.kind", FT_UINT8, BASE_DEC,
            VALS(link_kind_vals), 0x0, "Which message of the link phase (before the data messages) this is", HFILL } },
        { &hf_link_major, { "Link major version", "spicemig.link.major", FT_UINT32, BASE_DEC,
            NULL, 0x0, "SPICE protocol major version in the link header", HFILL } },
        { &hf_link_minor, { "Link minor version", "spicemig.link.minor", FT_UINT32, BASE_DEC,
            NULL, 0x0, "SPICE protocol minor version in the link header", HFILL } },
        { &hf_link_size, { "Link message size", "spicemig.link.size", FT_UINT32, BASE_DEC | BASE_UNIT_STRING,
            &units_byte_bytes, 0x0, "Size of the link message after its 16-byte header", HFILL } },
        { &hf_link_connection_id, { "Connection id", "spicemig.link.connection_id", FT_UINT32, BASE_HEX,
            NULL, 0x0, "Session the client links this channel to: 0 for a new session, else the session id", HFILL } },
        { &hf_link_error, { "Link reply error", "spicemig.link.error", FT_UINT32, BASE_DEC,
            VALS(spicemig_link_err_vals), 0x0, "The server's answer to the client's link message", HFILL } },
        { &hf_link_auth_mechanism, { "Auth mechanism", "spicemig.link.auth_mechanism", FT_UINT32, BASE_DEC,
            VALS(auth_mechanism_vals), 0x0, "Authentication mechanism the client selected", HFILL } },
        { &hf_link_ticket, { "Encrypted ticket", "spicemig.link.ticket", FT_BYTES, BASE_NONE,
            NULL, 0x0, "The client's password, RSA-encrypted with the server's public key", HFILL } },
        { &hf_link_result, { "Link result", "spicemig.link.result", FT_UINT32, BASE_DEC,
            VALS(spicemig_link_err_vals), 0x0, "The server's verdict on the authentication", HFILL } },
        { &hf_mini_header_negotiated, { "Mini header in use", "spicemig.link.mini_header", FT_BOOLEAN, BASE_NONE,
            TFS(&tfs_yes_no), 0x0, "Whether both link messages offer SPICE_COMMON_CAP_MINI_HEADER, so that every data "
            "message has the 6-byte header", HFILL } },
        { &hf_undecoded, { "Undecoded data", "spicemig.undecoded", FT_BYTES, BASE_NONE,
            NULL, 0x0, "Bytes neither spicemig nor the built-in SPICE dissector could decode", HFILL } },
    };
    static gint *ett[] = { &ett_spicemig, &ett_header, &ett_message };
    static ei_register_info ei[] = {
        { &ei_mid_connection, { "spicemig.mid_connection", PI_SEQUENCE, PI_NOTE,
            "Capture starts mid-connection: header format, direction and channel inferred from a migration message", EXPFILL } },
        { &ei_unsynced, { "spicemig.unsynced", PI_SEQUENCE, PI_NOTE,
            "Not at a message boundary yet (capture started mid-connection)", EXPFILL } },
        { &ei_link_size, { "spicemig.link.bad_size", PI_PROTOCOL, PI_ERROR,
            "Link message size implausible: not SPICE framing", EXPFILL } },
        { &ei_link_caps, { "spicemig.link.bad_caps", PI_PROTOCOL, PI_ERROR,
            "Link message capabilities run past the message", EXPFILL } },
        { &ei_msg_size, { "spicemig.msg.bad_size", PI_PROTOCOL, PI_ERROR,
            "Message size implausible", EXPFILL } },
        { &ei_sasl, { "spicemig.sasl", PI_DECRYPTION, PI_NOTE,
            "SASL authentication: the rest of this direction is SASL framed and not decoded by spicemig", EXPFILL } },
        { &ei_builtin_lost, { "spicemig.builtin_lost", PI_PROTOCOL, PI_NOTE,
            "The built-in SPICE dissector could not be given this link message (it shares its TCP segment with another); from here on spicemig names the messages, the built-in does not decode them", EXPFILL } },
        { &ei_not_desegmented, { "spicemig.not_desegmented", PI_REASSEMBLE, PI_WARN,
            "Message continues in a later segment", EXPFILL } },
    };

    proto_register_field_array(proto, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_register_field_array(expert, ei, array_length(ei));

    prefs_register_bool_preference(prefs, "take_vnc_ports",
        "Take TCP ports " SPICEMIG_VNC_PORTS " from VNC",
        "QEMU and libvirt put SPICE on ports " SPICEMIG_VNC_PORTS " by default, which Wireshark "
        "gives to VNC. When on, spicemig keeps SPICE connections there and hands every "
        "other connection to the VNC dissector unchanged.",
        &pref_take_vnc_ports);

    builtin_table = register_dissector_table("spicemig.builtin", "Built-in SPICE dissector (internal)", proto,
                                             FT_UINT8, BASE_DEC);
    spicemig_handle = register_dissector("spicemig", dissect_spicemig_decode_as, proto);
    spice_servers = wmem_map_new_autoreset(wmem_epan_scope(), wmem_file_scope(), server_hash, server_equal);
    spicemig_vnc_ports_handle = create_dissector_handle(dissect_spicemig_vnc_ports, proto);
}

/* VNC applies its own port preference after our hand-off, so the take-over
 * is (re)applied whenever a capture is opened, after every preference. */
static void
apply_vnc_port_takeover(void)
{
    static range_t *vnc_ports = NULL;

    if (!vnc_ports)
        range_convert_str(wmem_epan_scope(), &vnc_ports, SPICEMIG_VNC_PORTS, 65535);
    for (guint i = 0; i < vnc_ports->nranges; i++) {
        for (guint32 port = vnc_ports->ranges[i].low; port <= vnc_ports->ranges[i].high; port++) {
            if (pref_take_vnc_ports)
                dissector_change_uint("tcp.port", port, spicemig_vnc_ports_handle);
            else
                dissector_reset_uint("tcp.port", port);
        }
    }
}

/* Wireshark 4.4 and later register the expert protocol after the plugins'
 * hand-offs, so it is looked up when a capture is opened. */
static void
find_expert_and_frame_tap(void)
{
    proto_expert_info = proto_get_id_by_filter_name("_ws.expert");
    proto_tcp = proto_get_id_by_filter_name("tcp");
    frame_tap = find_tap_id("frame");
}

void
spicemig_handoff_stream(void)
{
    static gboolean initialized = FALSE;

    if (!initialized) {
        dissector_table_t tcp_port = find_dissector_table("tcp.port");

        heur_dissector_add("tcp", dissect_spicemig_heur, "SPICE over TCP (spicemig)", "spicemig_tcp",
                           proto_spicemig, HEURISTIC_ENABLE);
        dissector_add_for_decode_as("tcp.port", spicemig_handle);
        builtin_spice_handle = dissector_table_get_dissector_handle(tcp_port, "Spice");
        if (builtin_spice_handle)
            dissector_add_uint("spicemig.builtin", BUILTIN_TABLE_KEY, builtin_spice_handle);
        proto_builtin_spice = proto_get_id_by_filter_name("spice");
        vnc_handle = dissector_table_get_dissector_handle(tcp_port, "VNC");
        register_init_routine(apply_vnc_port_takeover);
        register_init_routine(find_expert_and_frame_tap);
        /* No protocol on the handle: Wireshark then adds no layer per frame
         * for it (a list append and removal on every frame). */
        close_watch_handle = create_dissector_handle(dissect_connection_close, -1);
        initialized = TRUE;
    }
    apply_vnc_port_takeover();
}
