/* spicemig-stats.c
 * Statistics over the migrations of a capture, from the "spicemig" tap the
 * analysis feeds (one record per migration message):
 *   tshark -z spicemig,tree        (also Statistics > SpiceMig in Wireshark)
 *     migrations by kind, bodies by magic and hop, problems by expert info;
 *   tshark -q -z spicemig,migrations
 *     one line per migration: kind, hosts, times, bodies forwarded, missing
 *     and modified;
 *   tshark -2 -q -z spicemig,migration_table  (also Statistics > SPICE Migrations)
 *     the same rows as a stat table, one column per value.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <wireshark.h>
#include <epan/packet.h>
#include <epan/expert.h>
#include <epan/tap.h>
#include <epan/stats_tree.h>
#include <epan/stat_tap_ui.h>

#include "spicemig.h"

#define STATS_TREE_ABBR  "spicemig"  /* -z spicemig,tree */
#define MIGRATIONS_ABBR  "spicemig,migrations"
/* Neither -z name may start with the other: tshark picks a -z statistic by prefix. */
#define MIGRATION_TABLE_ABBR "spicemig,migration_table"
#define MIGRATION_TABLE_TITLE "SPICE Migrations"
#define TABLE_RULE "================================================================================================================================================================================================="

static const char *const node_migrations = "Migrations by kind";
static const char *const node_outcomes = "Migrations by outcome";
static const char *const node_bodies = "Migrate-data bodies by magic and hop";
static const char *const node_problems = "Problems by severity and expert info";

static int st_migrations = -1;
static int st_outcomes = -1;
static int st_bodies = -1;
static int st_problems = -1;

/* ---- the stats tree ---- */

/* The tree being filled: the expert tap's listener ticks it too. */
static stats_tree *active_tree;
static gboolean listening_to_experts;
/* Migration id -> the "kind\noutcome" it is counted under so far: on one
 * pass a migration's kind and outcome change as the capture goes on. */
static GHashTable *counted_migrations;

static tap_packet_status
count_problem(void *tapdata _U_, packet_info *pinfo _U_, epan_dissect_t *edt _U_, const void *data,
              tap_flags_t flags _U_)
{
    const expert_info_t *expert = (const expert_info_t *)data;
    header_field_info *hfinfo;
    int severity_node;

    if (!active_tree || expert->severity < PI_WARN || expert->hf_index <= 0)
        return TAP_PACKET_DONT_REDRAW;
    hfinfo = proto_registrar_get_nth(expert->hf_index);
    if (!hfinfo || !g_str_has_prefix(hfinfo->abbrev, "spicemig."))
        return TAP_PACKET_DONT_REDRAW;
    tick_stat_node(active_tree, node_problems, 0, TRUE);
    severity_node = tick_stat_node(active_tree, expert->severity == PI_ERROR ? "Errors" : "Warnings", st_problems,
                                   TRUE);
    tick_stat_node(active_tree, hfinfo->abbrev, severity_node, FALSE);
    return TAP_PACKET_REDRAW;
}

static void
tree_init(stats_tree *st)
{
    GString *error;

    st_migrations = stats_tree_create_node(st, node_migrations, 0, STAT_DT_INT, TRUE);
    st_outcomes = stats_tree_create_node(st, node_outcomes, 0, STAT_DT_INT, TRUE);
    st_bodies = stats_tree_create_node(st, node_bodies, 0, STAT_DT_INT, TRUE);
    st_problems = stats_tree_create_node(st, node_problems, 0, STAT_DT_INT, TRUE);
    active_tree = st;
    if (counted_migrations)
        g_hash_table_remove_all(counted_migrations);
    else
        counted_migrations = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    /* Problems come from every spicemig expert info, whichever decoder raised
     * it; init runs again on each reset, the listener must not double. */
    if (listening_to_experts)
        return;
    error = register_tap_listener("expert", &active_tree, NULL, 0, NULL, count_problem, NULL, NULL);
    if (error)
        g_string_free(error, TRUE);
    else
        listening_to_experts = TRUE;
}

/* The expert listener stays registered (it ticks nothing without a tree):
 * Wireshark 4.6 runs this cleanup while it tears down its tap listeners, and
 * removing another listener from there corrupts that list. */
static void
tree_cleanup(stats_tree *st _U_)
{
    active_tree = NULL;
}

static void
count_migration(stats_tree *st, const spicemig_migration_info_t *info)
{
    const char *counted = (const char *)g_hash_table_lookup(counted_migrations, GUINT_TO_POINTER(info->id));
    char *now = g_strconcat(info->kind, "\n", info->outcome, NULL);
    const char *newline;

    if (counted && strcmp(counted, now) == 0) {
        g_free(now);
        return;
    }
    if (counted) {
        newline = strchr(counted, '\n');
        char *old_kind = g_strndup(counted, (gsize)(newline - counted));
        increase_stat_node(st, old_kind, st_migrations, FALSE, -1);
        increase_stat_node(st, newline + 1, st_outcomes, FALSE, -1);
        g_free(old_kind);
    } else {
        tick_stat_node(st, node_migrations, 0, TRUE);
        tick_stat_node(st, node_outcomes, 0, TRUE);
    }
    tick_stat_node(st, info->kind, st_migrations, FALSE);
    tick_stat_node(st, info->outcome, st_outcomes, FALSE);
    g_hash_table_insert(counted_migrations, GUINT_TO_POINTER(info->id), now);
}

static tap_packet_status
tree_packet(stats_tree *st, packet_info *pinfo, epan_dissect_t *edt _U_, const void *data,
            tap_flags_t flags _U_)
{
    const spicemig_tap_t *record = (const spicemig_tap_t *)data;
    spicemig_migration_info_t info;
    int magic_node;

    if (record->migration) {
        spicemig_migration_get_info(record->migration, pinfo->pool, &info);
        count_migration(st, &info);
    }
    if (record->magic) {
        tick_stat_node(st, node_bodies, 0, TRUE);
        magic_node = tick_stat_node(st, record->magic, st_bodies, TRUE);
        /* ASCII: tshark pads the tree's columns by bytes, not characters. */
        tick_stat_node(st, spicemig_hop_ascii(pinfo->pool, record->hop), magic_node, FALSE);
    }
    return TAP_PACKET_REDRAW;
}

/* ---- one migration's row, as both tables show it ---- */

/* What the capture does not tell, or a migration that has nothing to tell
 * there (no reason for a plain completed migration). */
#define NOT_KNOWN "-"

typedef struct {
    spicemig_migration_info_t info;
    const char *source, *destination, *end_frame, *reason;
    const char *begin_to_migrate, *migrate_to_forwarded, *display_gap, *begin_to_end;
} migration_row_t;

static const char *
seconds_text(wmem_allocator_t *scope, const nstime_t *time, gboolean known)
{
    return known ? wmem_strdup_printf(scope, "%.9f", nstime_to_sec(time)) : NOT_KNOWN;
}

/* Strings in `scope`. */
static void
migration_row_get(const spicemig_migration_t *migration, wmem_allocator_t *scope, migration_row_t *row)
{
    const spicemig_migration_info_t *info = &row->info;

    spicemig_migration_get_info(migration, scope, &row->info);
    row->source = info->source ? info->source : NOT_KNOWN;
    row->destination = info->destination ? info->destination : NOT_KNOWN;
    row->end_frame = info->end_frame ? wmem_strdup_printf(scope, "%u", info->end_frame) : NOT_KNOWN;
    row->reason = info->reason ? info->reason : NOT_KNOWN;
    row->begin_to_migrate = seconds_text(scope, &info->begin_to_migrate, info->begin_to_migrate_known);
    row->migrate_to_forwarded = seconds_text(scope, &info->migrate_to_forwarded, info->migrate_to_forwarded_known);
    row->display_gap = seconds_text(scope, &info->display_gap, info->display_gap_known);
    row->begin_to_end = seconds_text(scope, &info->begin_to_end, info->begin_to_end_known);
}

/* ---- the per-migration text table ---- */

typedef struct {
    GPtrArray  *migrations;  /* const spicemig_migration_t *, in the order first seen */
    GHashTable *seen;
} migrations_table_t;

static void
table_reset(void *tapdata)
{
    migrations_table_t *table = (migrations_table_t *)tapdata;

    g_ptr_array_set_size(table->migrations, 0);
    g_hash_table_remove_all(table->seen);
}

static tap_packet_status
table_packet(void *tapdata, packet_info *pinfo _U_, epan_dissect_t *edt _U_, const void *data,
             tap_flags_t flags _U_)
{
    migrations_table_t *table = (migrations_table_t *)tapdata;
    const spicemig_tap_t *record = (const spicemig_tap_t *)data;

    if (!record->migration || g_hash_table_contains(table->seen, record->migration))
        return TAP_PACKET_DONT_REDRAW;
    g_hash_table_add(table->seen, (gpointer)record->migration);
    g_ptr_array_add(table->migrations, (gpointer)record->migration);
    return TAP_PACKET_REDRAW;
}

static void
table_draw(void *tapdata)
{
    migrations_table_t *table = (migrations_table_t *)tapdata;
    wmem_allocator_t *scope = wmem_allocator_new(WMEM_ALLOCATOR_SIMPLE);
    guint i;

    printf("\n%s\n", TABLE_RULE);
    printf("SPICE migrations (times in seconds)\n");
    printf("%-3s %-36s %-9s %-21s %-21s %6s %6s %13s %13s %13s %5s %9s %7s %8s %9s\n",
           "#", "Kind", "Outcome", "Source", "Destination", "Begin", "End", "Begin>MIGRATE", "MIGRATE>fwd",
           "Display gap", "Sent", "Forwarded", "Missing", "Modified", "Unmatched");
    for (i = 0; i < table->migrations->len; i++) {
        migration_row_t row;
        const spicemig_migration_info_t *info = &row.info;

        migration_row_get((const spicemig_migration_t *)g_ptr_array_index(table->migrations, i), scope, &row);
        printf("%-3u %-36s %-9s %-21s %-21s %6u %6s %13s %13s %13s %5u %9u %7u %8u %9u\n", info->id, info->kind,
               info->outcome, row.source, row.destination, info->begin_frame, row.end_frame, row.begin_to_migrate,
               row.migrate_to_forwarded, row.display_gap, info->bodies_sent, info->bodies_forwarded,
               info->bodies_missing, info->bodies_modified, info->bodies_unmatched);
        if (info->reason)
            printf("    Reason: %s\n", info->reason);
    }
    wmem_destroy_allocator(scope);
    printf("%s\n", TABLE_RULE);
}

static void
table_finish(void *tapdata)
{
    migrations_table_t *table = (migrations_table_t *)tapdata;

    g_ptr_array_free(table->migrations, TRUE);
    g_hash_table_destroy(table->seen);
    g_free(table);
}

static spicemig_tap_init_result_t
table_init(const char *opt_arg, void *userdata _U_)
{
    migrations_table_t *table = g_new0(migrations_table_t, 1);
    const char *filter = NULL;
    GString *error;

    /* -z spicemig,migrations[,FILTER] */
    if (g_str_has_prefix(opt_arg, MIGRATIONS_ABBR ","))
        filter = opt_arg + strlen(MIGRATIONS_ABBR ",");
    table->migrations = g_ptr_array_new();
    table->seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    error = register_tap_listener("spicemig", table, filter, 0, table_reset, table_packet, table_draw,
                                  table_finish);
    if (error) {
        fprintf(stderr, "tshark: couldn't register " MIGRATIONS_ABBR " tap: %s\n", error->str);
        g_string_free(error, TRUE);
        table_finish(table);
        SPICEMIG_TAP_INIT_DONE(false);
    }
    SPICEMIG_TAP_INIT_DONE(true);
}

static stat_tap_ui migrations_ui = {
    REGISTER_STAT_GROUP_GENERIC,
    NULL,
    MIGRATIONS_ABBR,
    table_init,
    0,
    NULL
};

/* ---- the per-migration stat table: tshark -z spicemig,migration_table and
 * Statistics > SPICE Migrations in Wireshark ---- */

enum {
    COLUMN_ID,
    COLUMN_KIND,
    COLUMN_OUTCOME,
    COLUMN_SOURCE,
    COLUMN_DESTINATION,
    COLUMN_BEGIN_FRAME,
    COLUMN_END_FRAME,
    COLUMN_BEGIN_TO_MIGRATE,
    COLUMN_MIGRATE_TO_FORWARDED,
    COLUMN_DISPLAY_GAP,
    COLUMN_BEGIN_TO_END,
    COLUMN_BODIES_SENT,
    COLUMN_BODIES_FORWARDED,
    COLUMN_BODIES_MISSING,
    COLUMN_BODIES_MODIFIED,
    COLUMN_BODIES_UNMATCHED,
    COLUMN_REASON,
    MIGRATION_TABLE_COLUMNS
};

/* The formats are tshark's (Wireshark's dialog ignores them). Frames and
 * times are strings, for the dash of an unknown one. The reason, long, is
 * last: the dialog sizes every other column to its contents. */
static stat_tap_table_item migration_table_columns[MIGRATION_TABLE_COLUMNS] = {
    { TABLE_ITEM_UINT,   TAP_ALIGN_RIGHT, "Migration",                 "%9u" },
    { TABLE_ITEM_STRING, TAP_ALIGN_LEFT,  "Kind",                      "%-36s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_LEFT,  "Outcome",                   "%-9s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_LEFT,  "Source",                    "%-21s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_LEFT,  "Destination",               "%-21s" },
    { TABLE_ITEM_UINT,   TAP_ALIGN_RIGHT, "Begin frame",               "%11u" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "End frame",                 "%9s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Begin\u2192MIGRATE (s)",    "%17s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "MIGRATE\u2192forwarded (s)", "%21s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Display gap (s)",           "%15s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_RIGHT, "Begin\u2192end (s)",        "%13s" },
    { TABLE_ITEM_UINT,   TAP_ALIGN_RIGHT, "Bodies sent",               "%11u" },
    { TABLE_ITEM_UINT,   TAP_ALIGN_RIGHT, "Bodies forwarded",          "%16u" },
    { TABLE_ITEM_UINT,   TAP_ALIGN_RIGHT, "Bodies missing",            "%14u" },
    { TABLE_ITEM_UINT,   TAP_ALIGN_RIGHT, "Bodies modified",           "%15u" },
    { TABLE_ITEM_UINT,   TAP_ALIGN_RIGHT, "Bodies unmatched",          "%16u" },
    { TABLE_ITEM_STRING, TAP_ALIGN_LEFT,  "Reason",                    "%s" }
};

/* Migration id -> its row + 1. Rows live as long as the table: Wireshark
 * shares one table between the dialogs opened on it, and a dialog keeps
 * pointers to the rows it shows. */
static GHashTable *migration_table_rows;

/* The cell owns its string (g_strdup); the dialog reads it again when it sorts or copies. */
static void
set_string_cell(stat_tap_table *table, guint row, guint column, const char *text)
{
    stat_tap_table_item_type *cell = stat_tap_get_field_data(table, row, column);

    g_free((char *)cell->value.string_value);
    cell->value.string_value = g_strdup(text);
}

static void
set_uint_cell(stat_tap_table *table, guint row, guint column, guint value)
{
    stat_tap_get_field_data(table, row, column)->value.uint_value = value;
}

/* A row with the id alone: a migration no record of which came in this pass
 * (e.g. none matched the display filter). */
static void
clear_migration_row(stat_tap_table *table, guint row)
{
    guint column;

    for (column = COLUMN_ID + 1; column < MIGRATION_TABLE_COLUMNS; column++) {
        if (migration_table_columns[column].type == TABLE_ITEM_STRING)
            set_string_cell(table, row, column, "");
        else
            set_uint_cell(table, row, column, 0);
    }
}

static guint
migration_table_row(stat_tap_table *table, guint32 id)
{
    stat_tap_table_item_type cells[MIGRATION_TABLE_COLUMNS];
    gpointer row_plus_one;
    guint row, column;

    if (g_hash_table_lookup_extended(migration_table_rows, GUINT_TO_POINTER(id), NULL, &row_plus_one))
        return GPOINTER_TO_UINT(row_plus_one) - 1;
    memset(cells, 0, sizeof(cells));
    for (column = 0; column < MIGRATION_TABLE_COLUMNS; column++)
        cells[column].type = migration_table_columns[column].type;
    cells[COLUMN_ID].value.uint_value = id;
    row = table->num_elements;
    stat_tap_init_table_row(table, row, MIGRATION_TABLE_COLUMNS, cells);
    clear_migration_row(table, row);
    g_hash_table_insert(migration_table_rows, GUINT_TO_POINTER(id), GUINT_TO_POINTER(row + 1));
    return row;
}

/* The migration's row, rewritten from the migration as it stands on each of
 * its records: on tshark's second pass and on Wireshark's retap the first
 * pass has decided everything, also an outcome known only at the end of the
 * capture. */
static tap_packet_status
migration_table_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt _U_, const void *data,
                       tap_flags_t flags _U_)
{
    const stat_data_t *stat_data = (const stat_data_t *)tapdata;
    const spicemig_tap_t *record = (const spicemig_tap_t *)data;
    stat_tap_table *table;
    migration_row_t text;
    guint row;

    if (!record->migration)
        return TAP_PACKET_DONT_REDRAW;
    table = g_array_index(stat_data->stat_tap_data->tables, stat_tap_table *, 0);
    migration_row_get(record->migration, pinfo->pool, &text);
    row = migration_table_row(table, text.info.id);
    set_string_cell(table, row, COLUMN_KIND, text.info.kind);
    set_string_cell(table, row, COLUMN_OUTCOME, text.info.outcome);
    set_string_cell(table, row, COLUMN_SOURCE, text.source);
    set_string_cell(table, row, COLUMN_DESTINATION, text.destination);
    set_uint_cell(table, row, COLUMN_BEGIN_FRAME, text.info.begin_frame);
    set_string_cell(table, row, COLUMN_END_FRAME, text.end_frame);
    set_string_cell(table, row, COLUMN_BEGIN_TO_MIGRATE, text.begin_to_migrate);
    set_string_cell(table, row, COLUMN_MIGRATE_TO_FORWARDED, text.migrate_to_forwarded);
    set_string_cell(table, row, COLUMN_DISPLAY_GAP, text.display_gap);
    set_string_cell(table, row, COLUMN_BEGIN_TO_END, text.begin_to_end);
    set_uint_cell(table, row, COLUMN_BODIES_SENT, text.info.bodies_sent);
    set_uint_cell(table, row, COLUMN_BODIES_FORWARDED, text.info.bodies_forwarded);
    set_uint_cell(table, row, COLUMN_BODIES_MISSING, text.info.bodies_missing);
    set_uint_cell(table, row, COLUMN_BODIES_MODIFIED, text.info.bodies_modified);
    set_uint_cell(table, row, COLUMN_BODIES_UNMATCHED, text.info.bodies_unmatched);
    set_string_cell(table, row, COLUMN_REASON, text.reason);
    return TAP_PACKET_REDRAW;
}

static void
migration_table_reset(stat_tap_table *table)
{
    guint row;

    for (row = 0; row < table->num_elements; row++)
        clear_migration_row(table, row);
}

static void
migration_table_free_cell(stat_tap_table *table _U_, guint row _U_, guint column,
                          stat_tap_table_item_type *cell)
{
    if (migration_table_columns[column].type == TABLE_ITEM_STRING)
        g_free((char *)cell->value.string_value);
}

/* Run before each tap pass of a tshark run or a dialog (which shares the
 * table with the other dialogs open on it). */
static void
migration_table_init(stat_tap_table_ui *ui)
{
    stat_tap_table *table = stat_tap_find_table(ui, MIGRATION_TABLE_TITLE);

    if (table) {
        migration_table_reset(table);
        return;
    }
    stat_tap_add_table(ui, stat_tap_init_table(MIGRATION_TABLE_TITLE, MIGRATION_TABLE_COLUMNS, 0, NULL));
    if (migration_table_rows)
        g_hash_table_remove_all(migration_table_rows);
    else
        migration_table_rows = g_hash_table_new(g_direct_hash, g_direct_equal);
}

static tap_param migration_table_params[] = {
    { PARAM_FILTER, "filter", "Filter", NULL, TRUE }
};

static stat_tap_table_ui migration_table_ui = {
    REGISTER_PACKET_STAT_GROUP_UNSORTED,  /* the Statistics menu */
    MIGRATION_TABLE_TITLE,
    "spicemig",
    MIGRATION_TABLE_ABBR,
    migration_table_init,
    migration_table_packet,
    migration_table_reset,
    migration_table_free_cell,
    NULL,
    G_N_ELEMENTS(migration_table_columns), migration_table_columns,
    G_N_ELEMENTS(migration_table_params), migration_table_params,
    NULL,
    0
};

void
spicemig_register_stats(void)
{
    stats_tree_register_plugin("spicemig", STATS_TREE_ABBR, "SpiceMig", 0, tree_packet, tree_init,
                               tree_cleanup);
    register_stat_tap_ui(&migrations_ui, NULL);
    register_stat_tap_table_ui(&migration_table_ui);
}
