/* spicemig-flow.c
 * The Flow Graph of SPICE migrations: Statistics > Flow Graph with flow type
 * "SPICE migrations", tshark -z flow,spicemig,network. Its nodes are the
 * parties of each migration, named by role and endpoint ("source server
 * 127.0.0.1:5910", "client 127.0.0.1", "destination server 127.0.0.1:5912"),
 * also when they all share one address; its arrows are the records of the
 * "spicemig" tap: each migration message, each link of a destination
 * connection, and each milestone or problem, with the text of its expert
 * info as comment.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <wireshark.h>
#include <epan/packet.h>
#include <epan/tap.h>
#include <epan/to_str.h>

#include "spicemig.h"

#define FLOW_NAME    "spicemig"  /* -z flow,spicemig,... */
#define FLOW_UI_NAME "SPICE migrations"

static const char *const party_roles[] = {
    [SPICEMIG_PARTY_SOURCE]      = "source server",
    [SPICEMIG_PARTY_CLIENT]      = "client",
    [SPICEMIG_PARTY_DESTINATION] = "destination server",
};

/* The node of a party: the Flow Graph compares nodes by address and shows
 * the address, so a node is its label as an AT_STRINGZ address. The client
 * has a port per channel: its node is its address, the arrows give ports. */
static void
set_node(address *node, spicemig_party_t party, const spicemig_migration_info_t *info, const address *client,
         packet_info *pinfo)
{
    const char *where = party == SPICEMIG_PARTY_SOURCE ? info->source
                      : party == SPICEMIG_PARTY_DESTINATION ? info->destination
                      : address_to_str(pinfo->pool, client);
    const char *label = where ? wmem_strdup_printf(pinfo->pool, "%s %s", party_roles[party], where)
                              : party_roles[party];
    address text;

    set_address(&text, AT_STRINGZ, (int)strlen(label) + 1, label);
    free_address(node);
    copy_address(node, &text);
}

static tap_packet_status
flow_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt _U_, const void *data, tap_flags_t flags _U_)
{
    spicemig_seq_info_t *flow = (spicemig_seq_info_t *)tapdata;
    const spicemig_tap_t *record = (const spicemig_tap_t *)data;
    const address *client = record->sender == SPICEMIG_PARTY_CLIENT ? &pinfo->net_src : &pinfo->net_dst;
    spicemig_migration_info_t info;
    spicemig_seq_item_t *arrow;

    /* Outside a migration there are no parties. */
    if (!record->migration || !(arrow = sequence_analysis_create_sai_with_addresses(pinfo, flow)))
        return TAP_PACKET_DONT_REDRAW;
    spicemig_migration_get_info(record->migration, pinfo->pool, &info);
    set_node(&arrow->src_addr, record->sender, &info, client, pinfo);
    set_node(&arrow->dst_addr, record->receiver, &info, client, pinfo);
    arrow->frame_number = pinfo->num;
    arrow->port_src = (guint16)pinfo->srcport;
    arrow->port_dst = (guint16)pinfo->destport;
    arrow->frame_label = record->channel ? g_strdup_printf("%s %s", record->channel, record->label)
                                         : g_strdup(record->label);
    arrow->comment = record->comment ? g_strdup(record->comment) : g_strdup_printf("Migration %u", info.id);
    /* Each migration its own conversation: its own colour in Wireshark. */
    arrow->conv_num = (guint16)info.id;
    arrow->line_style = 1;
    arrow->display = TRUE;
    g_queue_push_tail(flow->items, arrow);
    return TAP_PACKET_REDRAW;
}

void
spicemig_register_flow(int proto)
{
    register_seq_analysis(FLOW_NAME, FLOW_UI_NAME, proto, "spicemig", 0, flow_packet);
}
