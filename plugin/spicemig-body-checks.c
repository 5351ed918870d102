/* spicemig-body-checks.c
 * The one check every offset pointer of a SPICE message body goes through,
 * and the length checks the body decoders share, so that a malformed body
 * gets an expert info instead of an exception.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <wireshark.h>
#include <wsutil/str_util.h>

#include "spicemig.h"

#include <epan/proto_data.h>

/* Not from the message header nor from the frame: a reader who counts
 * from either lands 6 or 18 bytes off. */
const unit_name_string spicemig_units_body_offset = { " byte from the body start", " bytes from the body start" };

static expert_field ei_pointer_out_of_bounds = EI_INIT;
static expert_field ei_pointer_into_fixed_part = EI_INIT;
static expert_field ei_truncated = EI_INIT;
static expert_field ei_trailing_data = EI_INIT;

void
spicemig_body_init(spicemig_body_t *body, tvbuff_t *tvb, packet_info *pinfo, guint32 fixed_part_end)
{
    body->tvb = tvb;
    body->pinfo = pinfo;
    body->len = tvb_reported_length(tvb);
    body->fixed_part_end = fixed_part_end;
    body->accounted_end = fixed_part_end;
    body->bad_pointer = FALSE;
}


void
spicemig_note_info_problem(packet_info *pinfo, const char *problem)
{
    guint8 layer = pinfo->curr_layer_num;
    spicemig_frame_notes_t *notes;
    char *text;

    pinfo->curr_layer_num = 0;
    notes = (spicemig_frame_notes_t *)p_get_proto_data(pinfo->pool, pinfo, proto_spicemig, SPICEMIG_KEY_FRAME_VIEW);
    pinfo->curr_layer_num = layer;
    if (!notes || notes->problem)
        return;
    /* Tree labels start with a capital; inside the Info line a word only
     * keeps it when it is an acronym ("DCMD", "GLZ"). */
    text = wmem_strdup(pinfo->pool, problem);
    if (g_ascii_isupper(text[0]) && g_ascii_islower(text[1]))
        text[0] = g_ascii_tolower(text[0]);
    notes->problem = text;
}

typedef struct {
    spicemig_dst_outcome_t outcome;
    const char            *reason;
} dst_note_t;

void
spicemig_note_problem(packet_info *pinfo, spicemig_dst_outcome_t outcome, const char *problem)
{
    dst_note_t *note = (dst_note_t *)p_get_proto_data(pinfo->pool, pinfo, proto_spicemig, SPICEMIG_KEY_DST_OUTCOME);

    spicemig_note_info_problem(pinfo, problem);
    if (outcome == SPICEMIG_DST_ACCEPTS)
        return;
    if (!note) {
        note = wmem_new0(pinfo->pool, dst_note_t);
        p_add_proto_data(pinfo->pool, pinfo, proto_spicemig, SPICEMIG_KEY_DST_OUTCOME, note);
    }
    if (outcome > note->outcome) {
        note->outcome = outcome;
        note->reason = problem;
    }
}

spicemig_dst_outcome_t
spicemig_take_dst_outcome(packet_info *pinfo, const char **reason)
{
    dst_note_t *note = (dst_note_t *)p_get_proto_data(pinfo->pool, pinfo, proto_spicemig, SPICEMIG_KEY_DST_OUTCOME);
    spicemig_dst_outcome_t outcome;

    if (!note) {
        *reason = NULL;
        return SPICEMIG_DST_ACCEPTS;
    }
    outcome = note->outcome;
    *reason = note->reason;
    note->outcome = SPICEMIG_DST_ACCEPTS;
    note->reason = NULL;
    return outcome;
}

gboolean
spicemig_check_pointer(spicemig_body_t *body, proto_item *ptr_item, const char *ptr_name,
                       guint32 ptr, guint32 len)
{
    /* A body cut short inside its fixed part has no regions to read; the
     * truncation has its own expert info. */
    if (body->len < body->fixed_part_end)
        return FALSE;
    /* spice's marshaller leaves the pointer of an empty region at 0. */
    if (ptr == 0 && len == 0)
        return TRUE;

    if (ptr < body->fixed_part_end) {
        expert_add_info_format(body->pinfo, ptr_item, &ei_pointer_into_fixed_part,
                               "%s %u points into the %u-byte fixed part",
                               ptr_name, ptr, body->fixed_part_end);
        spicemig_note_problem(body->pinfo, SPICEMIG_DST_UNSAFE,
                              wmem_strdup_printf(body->pinfo->pool, "%s %u inside the fixed part",
                                                 ptr_name, ptr));
        body->bad_pointer = TRUE;
        return FALSE;
    }
    /* In 64 bits: a length near 4 GiB must not wrap around into the body. */
    if ((guint64)ptr + len > body->len) {
        expert_add_info_format(body->pinfo, ptr_item, &ei_pointer_out_of_bounds,
                               "%s %u + %u byte%s runs past the %u-byte body",
                               ptr_name, ptr, len, plurality(len, "", "s"), body->len);
        spicemig_note_problem(body->pinfo, SPICEMIG_DST_UNSAFE,
                              wmem_strdup_printf(body->pinfo->pool, "%s %u out of bounds", ptr_name, ptr));
        body->bad_pointer = TRUE;
        return FALSE;
    }
    body->accounted_end = MAX(body->accounted_end, ptr + len);
    return TRUE;
}

gboolean
spicemig_check_fixed_part(spicemig_body_t *body, proto_tree *tree, const char *what)
{
    if (body->len >= body->fixed_part_end)
        return TRUE;
    proto_tree_add_expert_format(tree, body->pinfo, &ei_truncated, body->tvb, 0, body->len,
                                 "%s body is %u byte%s, shorter than its %u-byte fixed part",
                                 what, body->len, plurality(body->len, "", "s"), body->fixed_part_end);
    spicemig_note_problem(body->pinfo, SPICEMIG_DST_REJECTS,
                          wmem_strdup_printf(body->pinfo->pool, "%s truncated", what));
    return FALSE;
}

guint32
spicemig_check_count(spicemig_body_t *body, proto_item *count_item, const char *count_name,
                     guint32 count, guint32 offset, guint32 entry_size)
{
    guint32 room = offset < body->len ? body->len - offset : 0;

    if ((guint64)count * entry_size <= room) {
        body->accounted_end = MAX(body->accounted_end, offset + count * entry_size);
        return count;
    }
    expert_add_info_format(body->pinfo, count_item, &ei_truncated,
                           "%s %u x %u bytes at offset %u runs past the %u-byte body",
                           count_name, count, entry_size, offset, body->len);
    spicemig_note_problem(body->pinfo, SPICEMIG_DST_UNSAFE,
                          wmem_strdup_printf(body->pinfo->pool, "%s %u past the body end",
                                             count_name, count));
    /* The bytes of the cut-off list are its own, not trailing data. */
    body->accounted_end = MAX(body->accounted_end, body->len);
    return room / entry_size;
}

void
spicemig_check_trailing(spicemig_body_t *body, proto_tree *tree)
{
    guint32 trailing;

    /* After a rejected pointer nothing tells what the bytes after the fixed
     * part are: the pointer's expert info already says what is wrong. */
    if (body->bad_pointer || body->len <= body->accounted_end)
        return;
    trailing = body->len - body->accounted_end;
    proto_tree_add_expert_format(tree, body->pinfo, &ei_trailing_data, body->tvb, body->accounted_end, trailing,
                                 "%u trailing byte%s at offset %u (the body accounts for %u of its %u byte%s)",
                                 trailing, plurality(trailing, "", "s"), body->accounted_end,
                                 body->accounted_end, body->len, plurality(body->len, "", "s"));
}

gboolean
spicemig_add_fixed_field(spicemig_body_t *body, proto_tree *tree, int hf, guint32 offset, guint32 size,
                         proto_item **item, guint32 *value)
{
    proto_item *field_item;

    if ((guint64)offset + size > body->len)
        return FALSE;
    field_item = proto_tree_add_item(tree, hf, body->tvb, offset, size, ENC_LITTLE_ENDIAN);
    if (item)
        *item = field_item;
    if (value) {
        switch (size) {
        case 1:
            *value = spicemig_tvb_get_u8(body->tvb, offset);
            break;
        case 2:
            *value = tvb_get_letohs(body->tvb, offset);
            break;
        case 4:
            *value = tvb_get_letohl(body->tvb, offset);
            break;
        default:
            DISSECTOR_ASSERT_NOT_REACHED();
        }
    }
    return TRUE;
}

void
spicemig_register_pointer(int proto _U_, expert_module_t *expert)
{
    /* PI_PROTOCOL, not PI_MALFORMED, for broken bodies too: the decoder
     * goes on and shows what is there, while PI_MALFORMED would also mark
     * the frame _ws.malformed as if dissection had failed. */
    static ei_register_info ei[] = {
        { &ei_pointer_out_of_bounds,
          { "spicemig.pointer_out_of_bounds", PI_PROTOCOL, PI_ERROR,
            "Offset pointer runs past the end of the body", EXPFILL }},
        { &ei_pointer_into_fixed_part,
          { "spicemig.pointer_into_fixed_part", PI_PROTOCOL, PI_ERROR,
            "Offset pointer points into the fixed part of the body", EXPFILL }},
        { &ei_truncated,
          { "spicemig.truncated", PI_PROTOCOL, PI_ERROR,
            "Body shorter than its fields say", EXPFILL }},
        { &ei_trailing_data,
          { "spicemig.trailing_data", PI_PROTOCOL, PI_WARN,
            "Bytes after everything the body accounts for", EXPFILL }},
    };

    expert_register_field_array(expert, ei, array_length(ei));
}
