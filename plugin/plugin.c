/* plugin.c
 * Registration of the spicemig protocol with Wireshark: the protocol, its
 * preferences module and expert module, and the plugin entry point. Each
 * concern registers its own fields from here.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <wireshark.h>
#include <epan/proto.h>
#include <epan/tap.h>

#include "spicemig.h"

WS_DLL_PUBLIC_DEF const gchar plugin_version[] = PLUGIN_VERSION;
WS_DLL_PUBLIC_DEF const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
WS_DLL_PUBLIC_DEF const int plugin_want_minor = WIRESHARK_VERSION_MINOR;

WS_DLL_PUBLIC void plugin_register(void);
SPICEMIG_PLUGIN_DESCRIBE_DISSECTOR()

int proto_spicemig = -1;

static void
proto_register_spicemig(void)
{
    expert_module_t *expert;
    module_t *prefs_module;

    proto_spicemig = proto_register_protocol("SPICE Migration", "SpiceMig", "spicemig");
    expert = expert_register_protocol(proto_spicemig);
    prefs_module = prefs_register_protocol(proto_spicemig, spicemig_handoff_stream);

    spicemig_register_stream(proto_spicemig, expert, prefs_module);
    spicemig_register_control(proto_spicemig, expert);
    spicemig_register_migrate_data(proto_spicemig, expert, prefs_module);
    spicemig_register_pointer(proto_spicemig, expert);
    spicemig_register_caps(proto_spicemig);
    spicemig_register_replacements(proto_spicemig);
    spicemig_register_agent(proto_spicemig, expert);
    spicemig_register_analysis(proto_spicemig, expert);
    spicemig_register_outcome(proto_spicemig, expert);
    spicemig_register_tls(proto_spicemig, expert);
    spicemig_register_flow(proto_spicemig);
}

static void
proto_reg_handoff_spicemig(void)
{
    spicemig_handoff_stream();
    spicemig_handoff_tls();
}

void
plugin_register(void)
{
    static proto_plugin plug;
    static tap_plugin stats;

    plug.register_protoinfo = proto_register_spicemig;
    plug.register_handoff = proto_reg_handoff_spicemig;
    proto_register_plugin(&plug);
    stats.register_tap_listener = spicemig_register_stats;
    tap_register_plugin(&stats);
}
