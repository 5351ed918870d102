/* spicemig-outcome.c
 * The outcome of one migration: the path SPICE really took (seamless,
 * semi-seamless, switch-host, or a fall-back from one to another), whether
 * it completed, was cancelled or failed, why, and where it ended.
 *
 * It models what the real software does (spice-server 0.15.1-0.16.0
 * reds.cpp and main-channel-client.cpp, spice-gtk 0.42 spice-session.c and
 * channel-main.c):
 *  - the source picks the path: MIGRATE_BEGIN_SEAMLESS, MIGRATE_BEGIN, or
 *    straight MIGRATE_SWITCH_HOST;
 *  - when the VM migration completes before the client has connected to the
 *    destination, the source falls back to MIGRATE_SWITCH_HOST (reds_mig_switch);
 *    a late MIGRATE_CONNECTED_SEAMLESS is then answered with MIGRATE_CANCEL,
 *    which cancels nothing: the client relinks to the switch-host target with
 *    connection id 0 and gets a new session;
 *  - MIGRATE_CANCEL before any switch-over means QEMU's migration was
 *    cancelled or failed (reds_mig_cleanup): the VM stays on the source;
 *  - a seamless migration completes with the forwarded bodies, a
 *    semi-seamless one with the client's MIGRATE_END to the destination, a
 *    switch-host one with MAIN_INIT on the relinked main channel.
 * The analysis (spicemig-analysis.c) reports each step as an event on the
 * first pass; every decision is recorded with its frame, so the warning of a
 * failure is on the same frame on one pass and two.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <wireshark.h>
#include <epan/packet.h>
#include <epan/expert.h>

#include "spicemig.h"

static int hf_kind = -1;
static int hf_outcome = -1;
static int hf_reason = -1;
static int hf_end = -1;
static int hf_time_begin_to_end = -1;

static expert_field ei_failed = EI_INIT;
static expert_field ei_cancelled = EI_INIT;
static expert_field ei_setback = EI_INIT;
static expert_field ei_fallback = EI_INIT;

static const char *const outcome_names[] = {
    [SPICEMIG_OUTCOME_UNKNOWN]   = "unknown",
    [SPICEMIG_OUTCOME_COMPLETED] = "completed",
    [SPICEMIG_OUTCOME_CANCELLED] = "cancelled",
    [SPICEMIG_OUTCOME_FAILED]    = "failed",
};

static const char *const path_names[] = {
    [SPICEMIG_PATH_NONE]          = "seamless",   /* only MIGRATE seen: a capture of the channels without main */
    [SPICEMIG_PATH_SEAMLESS]      = "seamless",
    [SPICEMIG_PATH_SEMI_SEAMLESS] = "semi-seamless",
    [SPICEMIG_PATH_SWITCH_HOST]   = "switch-host",
};

static void
decide(spicemig_outcome_t *outcome, packet_info *pinfo, spicemig_outcome_result_t result, const char *reason,
       gboolean warn)
{
    outcome->result = result;
    outcome->reason = reason;
    outcome->end_frame = pinfo->num;
    outcome->end_time = pinfo->abs_ts;
    if (warn)
        outcome->problem_frame = pinfo->num;
}

static const char *
link_error_name(const spicemig_outcome_t *outcome)
{
    return val_to_str_const(outcome->link_error, spicemig_link_err_vals, "error");
}

/* The frame where a step first happened: later repeats change nothing. */
static void
note_first(guint32 *frame, const packet_info *pinfo)
{
    if (!*frame)
        *frame = pinfo->num;
}

static gboolean
switched_over(const spicemig_outcome_t *outcome)
{
    return outcome->migrate_frame || outcome->src_end_frame || outcome->switch_host_frame;
}

void
spicemig_outcome_event(spicemig_outcome_t *outcome, spicemig_outcome_event_t event, packet_info *pinfo,
                       const char *destination, guint32 value)
{
    switch (event) {
    case SPICEMIG_EVENT_BEGIN_SEAMLESS:
        outcome->path = SPICEMIG_PATH_SEAMLESS;
        break;
    case SPICEMIG_EVENT_BEGIN_SEMI_SEAMLESS:
        outcome->path = SPICEMIG_PATH_SEMI_SEAMLESS;
        break;
    case SPICEMIG_EVENT_SWITCH_HOST:
        if (outcome->switch_host_frame)
            break;
        outcome->switch_host_frame = pinfo->num;
        if (outcome->path == SPICEMIG_PATH_NONE)
            outcome->path = SPICEMIG_PATH_SWITCH_HOST;
        else
            outcome->fell_back = TRUE;
        break;
    case SPICEMIG_EVENT_DST_NACK:
        note_first(&outcome->nack_frame, pinfo);
        break;
    case SPICEMIG_EVENT_CONNECTED:
        outcome->connected_frame = pinfo->num;
        break;
    case SPICEMIG_EVENT_CONNECT_ERROR:
        note_first(&outcome->connect_error_frame, pinfo);
        break;
    case SPICEMIG_EVENT_DST_LINK_REFUSED:
        if (!outcome->link_refused_frame) {
            outcome->link_refused_frame = pinfo->num;
            outcome->link_error = value;
        } else if (outcome->relink_frame && outcome->result == SPICEMIG_OUTCOME_UNKNOWN) {
            decide(outcome, pinfo, SPICEMIG_OUTCOME_FAILED, wmem_strdup_printf(wmem_file_scope(),
                   "destination %s refused the client's link (%s, frame %u), and again after MIGRATE_SWITCH_HOST: "
                   "the client has no connection left", destination,
                   link_error_name(outcome),
                   outcome->link_refused_frame), TRUE);
        }
        break;
    case SPICEMIG_EVENT_CANCEL:
        /* After MIGRATE_SWITCH_HOST the source answers a late
         * MIGRATE_CONNECTED_SEAMLESS this way: the migration goes on. */
        if (outcome->switch_host_frame)
            break;
        if (outcome->dst_closed_frame && outcome->result == SPICEMIG_OUTCOME_FAILED) {
            /* The VM migration failed with the destination: the end is here. */
            outcome->reason = wmem_strdup_printf(wmem_file_scope(), "%s; the source cancelled when the VM migration "
                                                 "failed (frame %u)", outcome->reason, pinfo->num);
            outcome->end_frame = pinfo->num;
            outcome->end_time = pinfo->abs_ts;
            break;
        }
        if (outcome->result != SPICEMIG_OUTCOME_UNKNOWN)
            break;
        if (outcome->link_refused_frame)
            decide(outcome, pinfo, SPICEMIG_OUTCOME_FAILED, wmem_strdup_printf(wmem_file_scope(),
                   "destination %s refused the client's link (%s, frame %u); the source cancelled", destination,
                   link_error_name(outcome),
                   outcome->link_refused_frame), TRUE);
        else
            decide(outcome, pinfo, SPICEMIG_OUTCOME_CANCELLED,
                   "cancelled by the source after the VM migration was cancelled or failed (the capture cannot "
                   "tell which); the VM stays on the source", TRUE);
        break;
    case SPICEMIG_EVENT_MIGRATE:
        note_first(&outcome->migrate_frame, pinfo);
        break;
    case SPICEMIG_EVENT_SRC_END:
        note_first(&outcome->src_end_frame, pinfo);
        break;
    case SPICEMIG_EVENT_BODY_FORWARDED:
    case SPICEMIG_EVENT_CLIENT_END:
        /* The client hands the destination what it needs: the last one ends it. */
        if (outcome->result == SPICEMIG_OUTCOME_UNKNOWN || outcome->result == SPICEMIG_OUTCOME_COMPLETED)
            decide(outcome, pinfo, SPICEMIG_OUTCOME_COMPLETED, NULL, FALSE);
        break;
    case SPICEMIG_EVENT_SRC_CLOSED:
        if (outcome->result == SPICEMIG_OUTCOME_UNKNOWN && !switched_over(outcome))
            decide(outcome, pinfo, SPICEMIG_OUTCOME_FAILED, "the source's connections closed before switch-over: "
                   "the source QEMU stopped, or the client left it (the capture cannot tell which)", TRUE);
        else if ((value & SPICEMIG_CLOSED_BY_SERVER) && outcome->migrate_frame
                 && (outcome->result == SPICEMIG_OUTCOME_UNKNOWN || outcome->result == SPICEMIG_OUTCOME_COMPLETED))
            /* After MIGRATE a source server sends each channel's migrate data,
             * then closes: closing without one ends the migration, also when
             * other channels' bodies already reached the destination. */
            decide(outcome, pinfo, SPICEMIG_OUTCOME_FAILED, wmem_strdup_printf(wmem_file_scope(),
                   "after MIGRATE the source closed its connections without sending the %s channel's migrate "
                   "data: the source QEMU ended (aborted or killed) or spice-server dropped the client (the capture "
                   "cannot tell which)", spicemig_channel_name((guint8)value)), TRUE);
        break;
    case SPICEMIG_EVENT_DST_CLOSED:
        /* Before the client is connected a closing destination is a refused
         * link or connection, a setback of its own. */
        if (outcome->result == SPICEMIG_OUTCOME_UNKNOWN && !switched_over(outcome) && outcome->connected_frame) {
            outcome->dst_closed_frame = pinfo->num;
            decide(outcome, pinfo, SPICEMIG_OUTCOME_FAILED, wmem_strdup_printf(wmem_file_scope(),
                   "destination %s closed its connections before switch-over: the destination QEMU exited or was killed",
                   destination), TRUE);
        }
        break;
    case SPICEMIG_EVENT_RELINKED:
        note_first(&outcome->relink_frame, pinfo);
        break;
    case SPICEMIG_EVENT_RELINK_INIT:
        if (outcome->result == SPICEMIG_OUTCOME_UNKNOWN)
            decide(outcome, pinfo, SPICEMIG_OUTCOME_COMPLETED,
                   outcome->fell_back ? "the VM migration completed before the client had connected to the "
                   "destination: the client followed by switch-host" : NULL, FALSE);
        break;
    }
}

/* What the state says when no event decided: the absence of what should
 * follow, known only when the capture has been read (or so far). */
static spicemig_outcome_result_t
undecided_result(const spicemig_outcome_t *outcome, const char **reason, guint32 *end_frame, wmem_allocator_t *scope)
{
    if (outcome->switch_host_frame && !outcome->relink_frame && outcome->connect_error_frame) {
        *reason = wmem_strdup_printf(scope, "destination unreachable: the client could not connect to it "
                                     "(frame %u), and did not reach it after MIGRATE_SWITCH_HOST",
                                     outcome->connect_error_frame);
        *end_frame = outcome->switch_host_frame;
        return SPICEMIG_OUTCOME_FAILED;
    }
    *reason = "the capture ends before the migration does";
    *end_frame = 0;
    return SPICEMIG_OUTCOME_UNKNOWN;
}

void
spicemig_outcome_get(const spicemig_outcome_t *outcome, wmem_allocator_t *scope, spicemig_outcome_info_t *info)
{
    info->kind = outcome->fell_back
        ? wmem_strdup_printf(scope, "%s, fell back to switch-host", path_names[outcome->path])
        : outcome->nack_frame && outcome->path == SPICEMIG_PATH_SEAMLESS ? "seamless, fell back to semi-seamless"
        : path_names[outcome->path];
    info->result = outcome->result;
    info->reason = outcome->reason;
    info->end_frame = outcome->end_frame;
    info->end_time = outcome->end_time;
    if (outcome->result == SPICEMIG_OUTCOME_UNKNOWN)
        info->result = undecided_result(outcome, &info->reason, &info->end_frame, scope);
    info->outcome = outcome_names[info->result];
}

const char *
spicemig_outcome_name(spicemig_outcome_result_t result)
{
    return outcome_names[result];
}

guint
spicemig_outcome_problems(const spicemig_outcome_t *outcome, guint32 id, packet_info *pinfo,
                          spicemig_outcome_problem_t problems[SPICEMIG_OUTCOME_MAX_PROBLEMS])
{
    spicemig_outcome_info_t info;
    guint count = 0;

    if (pinfo->num == outcome->problem_frame) {
        spicemig_outcome_get(outcome, pinfo->pool, &info);
        problems[count].ei = info.result == SPICEMIG_OUTCOME_CANCELLED ? &ei_cancelled : &ei_failed;
        problems[count].label = info.outcome;
        problems[count++].text = wmem_strdup_printf(pinfo->pool, "Migration %u %s: %s", id, info.outcome,
                                                    info.reason);
    }
    if (pinfo->num == outcome->nack_frame) {
        problems[count].ei = &ei_fallback;
        problems[count].label = "seamless refused";
        problems[count++].text = wmem_strdup_printf(pinfo->pool, "Migration %u: the destination refused the "
                                                    "seamless migration (NACK): the client goes on semi-seamless", id);
    } else if (pinfo->num == outcome->connect_error_frame) {
        problems[count].ei = &ei_setback;
        problems[count].label = "connect error";
        problems[count++].text = wmem_strdup_printf(pinfo->pool, "Migration %u: the client could not connect "
                                                    "to the destination (MIGRATE_CONNECT_ERROR)", id);
    } else if (pinfo->num == outcome->link_refused_frame) {
        problems[count].ei = &ei_setback;
        problems[count].label = "link refused";
        problems[count++].text = wmem_strdup_printf(pinfo->pool, "Migration %u: the destination refused the "
                                                    "client's link (%s)", id, link_error_name(outcome));
    }
    return count;
}

void
spicemig_outcome_items(proto_tree *tree, tvbuff_t *tvb, packet_info *pinfo, const spicemig_outcome_t *outcome,
                       guint32 id, guint32 begin_frame, const nstime_t *begin_time)
{
    spicemig_outcome_problem_t problems[SPICEMIG_OUTCOME_MAX_PROBLEMS];
    spicemig_outcome_info_t info;
    proto_item *item;
    nstime_t delta;
    guint count, i;

    spicemig_outcome_get(outcome, pinfo->pool, &info);
    proto_item_set_generated(proto_tree_add_string(tree, hf_kind, tvb, 0, 0, info.kind));
    proto_item_set_generated(proto_tree_add_string(tree, hf_outcome, tvb, 0, 0, info.outcome));
    if (info.reason)
        proto_item_set_generated(proto_tree_add_string(tree, hf_reason, tvb, 0, 0, info.reason));
    if (info.end_frame) {
        item = proto_tree_add_uint(tree, hf_end, tvb, 0, 0, info.end_frame);
        proto_item_set_generated(item);
    }
    if (outcome->end_frame && info.end_frame == outcome->end_frame && begin_frame) {
        nstime_delta(&delta, &outcome->end_time, begin_time);
        proto_item_set_generated(proto_tree_add_time(tree, hf_time_begin_to_end, tvb, 0, 0, &delta));
    }
    count = spicemig_outcome_problems(outcome, id, pinfo, problems);
    for (i = 0; i < count; i++)
        proto_tree_add_expert_format(tree, pinfo, problems[i].ei, tvb, 0, 0, "%s", problems[i].text);
}

void
spicemig_register_outcome(int proto, expert_module_t *expert)
{
    static hf_register_info hf[] = {
        { &hf_kind,
          { "Kind", "spicemig.migration.kind", FT_STRING, BASE_NONE, NULL, 0x0,
            "The path the migration took: seamless, semi-seamless, switch-host, or a fall-back from one to another",
            HFILL }},
        { &hf_outcome,
          { "Outcome", "spicemig.migration.outcome", FT_STRING, BASE_NONE, NULL, 0x0,
            "completed, cancelled, failed, or unknown when the capture ends first", HFILL }},
        { &hf_reason,
          { "Outcome reason", "spicemig.migration.reason", FT_STRING, BASE_NONE, NULL, 0x0,
            "Why the migration was cancelled or failed, or took a fall-back path", HFILL }},
        { &hf_end,
          { "Ended in", "spicemig.migration.end", FT_FRAMENUM, BASE_NONE, FRAMENUM_TYPE(FT_FRAMENUM_RESPONSE), 0x0,
            "The frame that completed, cancelled or failed this migration", HFILL }},
        { &hf_time_begin_to_end,
          { "Begin to end", "spicemig.migration.time.begin_to_end", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
            "From the migration's beginning to its end", HFILL }},
    };
    static ei_register_info ei[] = {
        { &ei_failed,
          { "spicemig.migration.failed", PI_SEQUENCE, PI_WARN,
            "The migration failed", EXPFILL }},
        { &ei_cancelled,
          { "spicemig.migration.cancelled", PI_SEQUENCE, PI_WARN,
            "The migration was cancelled: the VM stays on the source", EXPFILL }},
        { &ei_setback,
          { "spicemig.migration.setback", PI_SEQUENCE, PI_WARN,
            "The client could not reach the destination: the migration falls back to switch-host", EXPFILL }},
        { &ei_fallback,
          { "spicemig.migration.fallback", PI_SEQUENCE, PI_NOTE,
            "The destination refused the seamless migration: the client goes on semi-seamless", EXPFILL }},
    };

    proto_register_field_array(proto, hf, array_length(hf));
    expert_register_field_array(expert, ei, array_length(ei));
}
