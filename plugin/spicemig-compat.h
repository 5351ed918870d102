/* spicemig-compat.h
 * The differences between the Wireshark versions spicemig builds against
 * (4.0, 4.4, 4.6), as named macros and typedefs: the decoders use these
 * names and never test the version themselves. Checked against the headers
 * of Debian 12 (4.0.17), 13 (4.4.19) and unstable (4.6.9).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef SPICEMIG_COMPAT_H
#define SPICEMIG_COMPAT_H

#include <stdbool.h>
#include <epan/tvbuff.h>
#include <wsutil/pint.h>
#include <wsutil/str_util.h>

#define SPICEMIG_WS_AT_LEAST(major, minor) \
    (WIRESHARK_VERSION_MAJOR > (major) \
     || (WIRESHARK_VERSION_MAJOR == (major) && WIRESHARK_VERSION_MINOR >= (minor)))

#if SPICEMIG_WS_AT_LEAST(4, 2)
#include <wsutil/plugins.h>
/* 4.2 made heuristic dissectors and boolean preferences C99 bool. */
typedef bool spicemig_heur_result_t;
typedef bool spicemig_pref_bool_t;
/* 4.2 renamed the glib-typed accessors (the old names are deprecated in 4.4). */
#define spicemig_tvb_get_u8   tvb_get_uint8
#define spicemig_tvb_find_u8  tvb_find_uint8
/* 4.2 made format_text() take plain char. */
#define spicemig_format_text(scope, str, len) format_text((scope), (const char *)(str), (len))
/* 4.2 asks a plugin what it provides: without plugin_describe() `tshark -G
 * plugins` lists it with type "unknown". Defines that function. */
#define SPICEMIG_PLUGIN_DESCRIBE_DISSECTOR() \
    WS_DLL_PUBLIC uint32_t plugin_describe(void); \
    uint32_t plugin_describe(void) { return WS_PLUGIN_DESC_DISSECTOR; }
#else
typedef gboolean spicemig_heur_result_t;
typedef gboolean spicemig_pref_bool_t;
#define spicemig_tvb_get_u8   tvb_get_guint8
#define spicemig_tvb_find_u8  tvb_find_guint8
#define spicemig_format_text(scope, str, len) format_text((scope), (const guchar *)(str), (len))
/* 4.0 tells a dissector plugin by its plugin_register() alone. */
#define SPICEMIG_PLUGIN_DESCRIBE_DISSECTOR()
#endif

#if SPICEMIG_WS_AT_LEAST(4, 6)
/* 4.6 renamed the unaligned little-endian readers (pletoh32 is gone). */
#define spicemig_pletohu32 pletohu32
/* 4.6 gave val_to_str() the scope argument of val_to_str_wmem(), now gone. */
#define spicemig_val_to_str val_to_str
/* 4.6 renamed dissector_try_uint_new() (deprecated there), same arguments. */
#define spicemig_dissector_try_uint dissector_try_uint_with_data
/* 4.6 lets a stat_tap_ui init callback fail by returning false (tshark then exits). */
typedef bool spicemig_tap_init_result_t;
#define SPICEMIG_TAP_INIT_DONE(ok) return (ok)
#else
#define spicemig_pletohu32 pletoh32
#define spicemig_val_to_str val_to_str_wmem
#define spicemig_dissector_try_uint dissector_try_uint_new
typedef void spicemig_tap_init_result_t;
#define SPICEMIG_TAP_INIT_DONE(ok) do { if (!(ok)) exit(1); return; } while (0)
#endif

#if SPICEMIG_WS_AT_LEAST(4, 4)
/* What the TLS dissector passes its application-data heuristics: since 4.4
 * (checked in 4.4.19's epan/dissectors/packet-tls.h) a struct tlsinfo whose
 * app_handle points at the session's application dissector; 4.0.17 passes
 * that pointer itself (packet-tls.c, process_ssl_payload). */
#include <epan/dissectors/packet-tls.h>
#define SPICEMIG_TLS_APP_HANDLE(data) (((struct tlsinfo *)(data))->app_handle)
#else
#define SPICEMIG_TLS_APP_HANDLE(data) ((dissector_handle_t *)(data))
#endif

/* A TCP conversation that stands for every connection to one server
 * endpoint, whatever the client's address and port: conversation_new()'s
 * wildcards for address 2 and port 2, as a template (each connection that
 * matches gets a conversation of its own, with the template's dissector,
 * instead of the template being bound to the first one). The same flags,
 * and the same fallback of find_conversation() to such a template when no
 * exact conversation exists, in 4.0.17 and 4.4.19 (epan/conversation.h,
 * conversation.c), and 4.6.9 builds with them; test_client_ports checks
 * the behaviour on each of the three.
 * find_conversation()'s own wildcards are the different NO_ADDR_B and
 * NO_PORT_B, which spicemig does not use. */
#include <epan/conversation.h>
#define SPICEMIG_CONV_ANY_CLIENT (NO_ADDR2 | NO_PORT2 | CONVERSATION_TEMPLATE)

/* A number's decimal digits into a buffer, without printf: renamed by 4.4
 * (4.4.19's wsutil/to_str.h keeps guint32_to_str_buf only as a deprecated
 * inline). */
#include <wsutil/to_str.h>
#if SPICEMIG_WS_AT_LEAST(4, 4)
#define spicemig_u32_to_str_buf uint32_to_str_buf
#else
#define spicemig_u32_to_str_buf guint32_to_str_buf
#endif

/* The Flow Graph (sequence analysis): libwireshark exports its functions,
 * but epan/sequence_analysis.h is not among the headers Wireshark installs
 * (none of Debian's libwireshark-dev 4.0.17, 4.4.19, 4.6.9 has it). What
 * spicemig uses of it, as each release's header declares it; the item's
 * size checked against what sequence_analysis_create_sai_with_addresses()
 * allocates in each libwireshark: 144 bytes (4.0.17), 136 (4.4.19), 144 (4.6.9). */
#include <epan/tap.h>
#if SPICEMIG_WS_AT_LEAST(4, 2)
/* 4.2 made the item's flags C99 bool. */
typedef bool spicemig_seq_bool_t;
#else
typedef gboolean spicemig_seq_bool_t;
#endif
typedef struct {
    guint32  frame_number;
    address  src_addr;      /* the nodes: the Flow Graph tells them apart by address */
    guint16  port_src;
    address  dst_addr;
    guint16  port_dst;
    char    *frame_label;   /* g_malloc()ed, as the rest: Wireshark frees them */
    char    *time_str;
    char    *comment;
    guint16  conv_num;
    unsigned fg_color;
    unsigned bg_color;
    spicemig_seq_bool_t has_color_filter;
    spicemig_seq_bool_t display;
    unsigned src_node;
    unsigned dst_node;
    guint16  line_style;
    int      info_type;
    void    *info_ptr;
#if SPICEMIG_WS_AT_LEAST(4, 6)
    void   (*free_info_ptr)(void *info_ptr);  /* new in 4.6 */
#endif
} spicemig_seq_item_t;
/* The start of seq_analysis_info_t, the same in 4.0 to 4.6; spicemig only
 * receives it. */
typedef struct {
    const char *name;
    spicemig_seq_bool_t any_addr;
    int         nconv;
    GQueue     *items;
} spicemig_seq_info_t;
WS_DLL_PUBLIC void register_seq_analysis(const char *name, const char *ui_name, const int proto_id,
                                         const char *tap_listener, guint tap_flags, tap_packet_cb tap_func);
/* A new item with the frame's time and its pinfo->src and ->dst as nodes, or
 * NULL when a frame has none. */
WS_DLL_PUBLIC spicemig_seq_item_t *sequence_analysis_create_sai_with_addresses(packet_info *pinfo,
                                                                               spicemig_seq_info_t *sainfo);

/* TCP's conversation completeness bits (packet-tcp.c's TCP_COMPLETENESS_FIN
 * and _RST, the same in 4.0 to 4.6; not in an installed header). */
#define SPICEMIG_TCP_COMPLETENESS_FIN 0x10
#define SPICEMIG_TCP_COMPLETENESS_RST 0x20

#endif /* SPICEMIG_COMPAT_H */
