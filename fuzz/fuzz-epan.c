/* fuzz-epan.c
 * libwireshark initialisation for the spicemig harnesses, after
 * Wireshark's fuzz/fuzzshark.c (4.0), with the plugin registered statically.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "fuzz-epan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <epan/column.h>
#include <epan/prefs.h>
#include <epan/timestamp.h>
#include <wsutil/filesystem.h>
#include <wsutil/privileges.h>
#include <wsutil/report_message.h>
#include <wsutil/wslog.h>

static epan_t *session;
static column_info columns;
static int hf_malformed = -1;

static void
fuzz_vfailure(const char *format, va_list ap)
{
    vfprintf(stderr, format, ap);
    fputc('\n', stderr);
}

static void
fuzz_open_failure(const char *name, int err, gboolean for_writing _U_)
{
    fprintf(stderr, "open %s: %s\n", name, g_strerror(err));
}

static void
fuzz_read_failure(const char *name, int err)
{
    fprintf(stderr, "read %s: %s\n", name, g_strerror(err));
}

static void
fuzz_cfile_failure(const char *name, int err, gchar *info _U_)
{
    fprintf(stderr, "capture file %s: error %d\n", name, err);
}

static void
fuzz_cfile_dump_open_failure(const char *name, int err, gchar *info _U_, int type _U_)
{
    fuzz_cfile_failure(name, err, NULL);
}

static void
fuzz_cfile_write_failure(const char *in, const char *out _U_, int err, gchar *info _U_,
                           guint32 num _U_, int type _U_)
{
    fuzz_cfile_failure(in, err, NULL);
}

static const nstime_t *
frame_ts(struct packet_provider_data *prov _U_, guint32 frame_num _U_)
{
    static nstime_t zero;

    return &zero;
}

static const struct packet_provider_funcs provider_funcs = { frame_ts, NULL, NULL, NULL };

static void
set_pref(const char *setting)
{
    char *errmsg = NULL;
    char *copy = g_strdup(setting); /* prefs_set_pref() writes into it */

    if (prefs_set_pref(copy, &errmsg) != PREFS_SET_OK) {
        fprintf(stderr, "fuzz: preference %s: %s\n", setting, errmsg ? errmsg : "rejected");
        exit(2);
    }
    g_free(errmsg);
    g_free(copy);
}

void
fuzz_epan_init(const char *argv0, const proto_plugin *harness, gboolean abort_on_dissector_bug)
{
    static const struct report_message_routines routines = {
        fuzz_vfailure, fuzz_vfailure, fuzz_open_failure, fuzz_read_failure,
        fuzz_read_failure, fuzz_cfile_failure, fuzz_cfile_dump_open_failure,
        fuzz_cfile_failure, fuzz_cfile_write_failure, fuzz_cfile_failure
    };
    e_prefs *prefs_p;
    char *err;

    /* As fuzzshark: no user profile, and a dissector bug is an abort, not a
     * log line. Unlike fuzzshark, wmem keeps its block allocator unless
     * WIRESHARK_DEBUG_WMEM_OVERRIDE=simple is set: one malloc per wmem
     * allocation lets ASan check each, but made the runs 3 to 4 times
     * slower, and spicemig writes to no wmem memory itself (tvb reads are
     * checked by the tvb, the input buffer by ASan). */
    g_setenv("XDG_CACHE_HOME", "/nonexistent", 0);
    g_setenv("XDG_CONFIG_HOME", "/nonexistent", 0);
    g_setenv("XDG_DATA_HOME", "/nonexistent", 0);
    g_setenv("G_SLICE", "always-malloc", 0);
    if (abort_on_dissector_bug)
        g_setenv("WIRESHARK_ABORT_ON_DISSECTOR_BUG", "1", 1);
    else
        g_unsetenv("WIRESHARK_ABORT_ON_DISSECTOR_BUG");
    g_setenv("WIRESHARK_ABORT_ON_TOO_MANY_ITEMS", "1", 1);

    /* Not left uninitialised: that logs every heuristic call at debug level. */
    ws_log_init("spicemig-fuzz", NULL);
    ws_log_set_level(LOG_LEVEL_WARNING);
    init_process_policies();
    err = configuration_init(argv0, NULL);
    g_free(err);
    init_report_message("spicemig-fuzz", &routines);
    timestamp_set_type(TS_RELATIVE);
    timestamp_set_precision(TS_PREC_AUTO);
    timestamp_set_seconds_type(TS_SECONDS_DEFAULT);
    wtap_init(FALSE);

    plugin_register();
    if (harness)
        proto_register_plugin(harness);
    /* No plugins from disk: an installed spicemig.so would register twice. */
    if (!epan_init(NULL, NULL, FALSE)) {
        fprintf(stderr, "fuzz: epan_init failed\n");
        exit(2);
    }
    prefs_p = epan_load_settings();
    /* Checksums are not what is fuzzed; every other default is tshark's. */
    set_pref("tcp.check_checksum:FALSE");
    set_pref("ip.check_checksum:FALSE");
    prefs_apply_all();
    build_column_format_array(&columns, prefs_p->num_cols, TRUE);
    hf_malformed = proto_registrar_get_id_byname("_ws.malformed");
    session = epan_new(NULL, &provider_funcs);
}

epan_t *
fuzz_epan_session(void)
{
    return session;
}

column_info *
fuzz_epan_columns(void)
{
    return &columns;
}

void
fuzz_epan_new_session(void)
{
    epan_free(session);
    session = epan_new(NULL, &provider_funcs);
}

void
fuzz_epan_dissect(epan_dissect_t *edt, frame_data *fd, guint32 num, int encap,
                  const guint8 *data, guint32 len, gboolean first_pass, column_info *cinfo)
{
    /* Static: the dissection keeps a pointer to its record (pinfo->rec) until
     * epan_dissect_reset(), which the caller runs after this returns. */
    static wtap_rec rec;

    memset(&rec, 0, sizeof(rec));
    rec.rec_type = REC_TYPE_PACKET;
    rec.presence_flags = WTAP_HAS_TS | WTAP_HAS_CAP_LEN;
    rec.rec_header.packet_header.caplen = len;
    rec.rec_header.packet_header.len = len;
    rec.rec_header.packet_header.pkt_encap = encap;
    if (first_pass)
        frame_data_init(fd, num, &rec, 0, 0);
    epan_dissect_run(edt, WTAP_FILE_TYPE_SUBTYPE_UNKNOWN, &rec, tvb_new_real_data(data, len, len), fd, cinfo);
}

void
fuzz_epan_assert_not_malformed(epan_dissect_t *edt, const char *what)
{
    GPtrArray *found;
    guint i;

    if (!edt->tree)
        return;
    found = proto_find_finfo(edt->tree, hf_malformed);
    for (i = 0; found && i < found->len; i++) {
        field_info *fi = (field_info *)g_ptr_array_index(found, i);
        /* show_exception() names pinfo->current_proto: "[Malformed Packet: SpiceMig]",
         * "[Dissector bug, protocol SpiceMig: ...]". */
        if (fi->rep && strstr(fi->rep->representation, "SpiceMig")) {
            fprintf(stderr, "fuzz: %s: %s\n", what, fi->rep->representation);
            abort();
        }
    }
    if (found)
        g_ptr_array_free(found, TRUE);
}

/* LeakSanitizer off unless SPICEMIG_FUZZ_LSAN is set: epan keeps file- and
 * epan-scope memory past every input by design, and scanning its heap after
 * each new input costs far more than the dissection itself. ASan still
 * catches every bad access. */
int __lsan_is_turned_off(void);

int
__lsan_is_turned_off(void)
{
    return getenv("SPICEMIG_FUZZ_LSAN") == NULL;
}

/* Short allocation stacks and a small quarantine: epan allocates per field
 * and per frame, and recording deep stacks for each allocation dominated the
 * run time. Overridden by ASAN_OPTIONS. */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
    return "malloc_context_size=4:quarantine_size_mb=32";
}
