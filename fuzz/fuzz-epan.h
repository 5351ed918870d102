/* fuzz-epan.h
 * What the spicemig libFuzzer harnesses share: libwireshark set up for
 * in-process dissection (the way Wireshark's fuzz/fuzzshark.c does it) with
 * spicemig compiled in and registered as a static plugin, because fuzzshark
 * loads no plugins.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef SPICEMIG_FUZZ_EPAN_H
#define SPICEMIG_FUZZ_EPAN_H

#include <wireshark.h>
#include <epan/epan.h>
#include <epan/epan_dissect.h>
#include <epan/proto.h>
#include <epan/column-info.h>
#include <wiretap/wtap.h>

/* The plugin's entry point (plugin/plugin.c). */
void plugin_register(void);

/* Registers spicemig and `harness` (a static plugin of the harness itself,
 * may be NULL) and initialises epan. With `abort_on_dissector_bug` any
 * dissector's bug aborts; without, it is shown in the tree as Wireshark
 * shows it, for fuzz_epan_assert_not_malformed() to judge. Exits the process
 * on failure. */
void fuzz_epan_init(const char *argv0, const proto_plugin *harness, gboolean abort_on_dissector_bug);

/* The session and the column info the harnesses dissect with. */
epan_t *fuzz_epan_session(void);
column_info *fuzz_epan_columns(void);
/* A fresh session: file-scope state (conversations, reassembly) dropped. */
void fuzz_epan_new_session(void);

/* Dissects one record of `len` bytes with encapsulation `encap` as frame
 * `fd` (initialised here when `first_pass`, else reused as the second pass
 * of tshark -2 uses it). `edt` is reset afterwards by the caller. */
void fuzz_epan_dissect(epan_dissect_t *edt, frame_data *fd, guint32 num, int encap,
                       const guint8 *data, guint32 len, gboolean first_pass, column_info *cinfo);

/* Aborts, naming `what`, when the tree of `edt` holds a Malformed Packet or
 * a Dissector bug raised while SpiceMig was the current protocol: our own
 * code threw. Those of other dissectors (the built-in SPICE dissector that
 * spicemig hands messages to) are theirs. */
void fuzz_epan_assert_not_malformed(epan_dissect_t *edt, const char *what);

#endif /* SPICEMIG_FUZZ_EPAN_H */
