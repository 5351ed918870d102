/* fuzz-body.c
 * libFuzzer target: the input is one migrate-data or migration control
 * message body. Its first 4 bytes say which message it is (direction,
 * channel type, message type: every kind spicemig decodes, inputs naming any
 * other are rejected); the rest is the body, handed to the plugin's decoder
 * exactly as the stream framing hands it (a tvb holding the body).
 * The decoders must not throw: every bad length, count or pointer gets an
 * expert info, so any exception here is a finding and aborts.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "fuzz-epan.h"

#include <stdio.h>
#include <stdlib.h>

#include <epan/exceptions.h>
#include <epan/packet.h>

#include "spicemig.h"

/* from_server u8 (bit 0), channel type u8, message type u16 little-endian. */
#define KIND_LEN 4

static int proto_fuzz_body = -1;
static gint ett_fuzz_body = -1;
static epan_dissect_t *edt;

/* Runs as a post-dissector on the raw input, as fuzzshark runs its target. */
static int
dissect_fuzz_body(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    spicemig_msg_ctx_t ctx = { 0 };
    guint16 type;
    tvbuff_t *body;
    proto_item *item;
    proto_tree *subtree;
    const char *summary = NULL;

    if (tvb_reported_length(tvb) < KIND_LEN)
        return 0;
    ctx.from_server = spicemig_tvb_get_u8(tvb, 0) & 1;
    ctx.channel_type = spicemig_tvb_get_u8(tvb, 1);
    ctx.channel_id = 0;
    type = tvb_get_letohs(tvb, 2);
    if (!spicemig_is_migration_message(&ctx, type))
        return 0;
    body = tvb_new_subset_remaining(tvb, KIND_LEN);
    item = proto_tree_add_item(tree, proto_spicemig, body, 0, -1, ENC_NA);
    subtree = proto_item_add_subtree(item, ett_fuzz_body);

    TRY {
        if (type == (ctx.from_server ? SPICE_MSG_MIGRATE_DATA : SPICE_MSGC_MIGRATE_DATA))
            summary = spicemig_dissect_migrate_data(body, pinfo, subtree, &ctx);
        else
            summary = spicemig_dissect_control(body, pinfo, subtree, &ctx, type);
    }
    CATCH_ALL {
        fprintf(stderr, "fuzz-body: %s %s threw exception %lu: %s\n", ctx.from_server ? "server" : "client",
                spicemig_message_name(&ctx, type), EXCEPT_CODE,
                GET_MESSAGE ? GET_MESSAGE : "");
        abort();
    }
    ENDTRY;
    col_add_str(pinfo->cinfo, COL_INFO, summary ? summary : "");
    return tvb_captured_length(tvb);
}

static void
register_fuzz_body(void)
{
    static gint *ett[] = { &ett_fuzz_body };

    proto_fuzz_body = proto_register_protocol("spicemig body fuzzer", "spicemig_fuzz_body", "spicemig_fuzz_body");
    proto_register_subtree_array(ett, array_length(ett));
    register_postdissector(create_dissector_handle(dissect_fuzz_body, proto_fuzz_body));
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const guint8 *buf, size_t len);

int
LLVMFuzzerInitialize(int *argc _U_, char ***argv)
{
    static const proto_plugin harness = { register_fuzz_body, NULL };

    fuzz_epan_init((*argv)[0], &harness, TRUE);
    edt = epan_dissect_new(fuzz_epan_session(), TRUE, TRUE);
    return 0;
}

int
LLVMFuzzerTestOneInput(const guint8 *buf, size_t len)
{
    static guint32 frame_num;
    frame_data fd;

    if (len > G_MAXINT32)
        return -1;
    /* No encapsulation: only the post-dissector above reads the bytes. */
    fuzz_epan_dissect(edt, &fd, ++frame_num, G_MAXINT16, buf, (guint32)len, TRUE, fuzz_epan_columns());
    frame_data_destroy(&fd);
    epan_dissect_reset(edt);
    return 0;
}
