/* spicemig-layouts.h
 * Layouts of the SPICE migrate-data bodies (the payload of
 * SPICE_MSG_MIGRATE_DATA and SPICE_MSGC_MIGRATE_DATA).
 *
 * These are spice-server internals that no package installs, mirrored from
 * spice-server 0.15.1:
 *   server/migration-protocol.h  the structures, magics and versions
 *   server/display-limits.h      NUM_SURFACES
 *   server/agent-msg-filter.h    AgentMsgFilterResult
 * The structures are packed like the originals and exist only for offsetof()
 * and sizeof(): every byte is read through the tvb accessors, never through
 * a cast. spice-protocol's own types (VDIChunkHeader) are used as they are.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef SPICEMIG_LAYOUTS_H
#define SPICEMIG_LAYOUTS_H

#include <stddef.h>
#include <glib.h>

#include <spice/vd_agent.h>

/* Magics as the four ASCII bytes that start a body on the wire. */
#define SPICEMIG_MIGRATE_DATA_MAIN_MAGIC      "MNMD"
#define SPICEMIG_MIGRATE_DATA_DISPLAY_MAGIC   "DCMD"
#define SPICEMIG_MIGRATE_DATA_INPUTS_MAGIC    "ICMD"
#define SPICEMIG_MIGRATE_DATA_SMARTCARD_MAGIC "SCMD"
#define SPICEMIG_MIGRATE_DATA_SPICEVMC_MAGIC  "SVMD"

/* The newest version of each body spice-server 0.15.1 writes; it rejects
 * greater ones. */
#define SPICEMIG_MIGRATE_DATA_MAIN_VERSION        1
#define SPICEMIG_MIGRATE_DATA_DISPLAY_VERSION     1
#define SPICEMIG_MIGRATE_DATA_INPUTS_VERSION      1
#define SPICEMIG_MIGRATE_DATA_SMARTCARD_VERSION   1
#define SPICEMIG_MIGRATE_DATA_SPICEVMC_VERSION    1
#define SPICEMIG_MIGRATE_DATA_CHAR_DEVICE_VERSION 1

#define SPICEMIG_MIGRATE_DATA_DISPLAY_MAX_CACHE_CLIENTS 4

/* Size of the destination server's surface array: surface ids must be below it. */
#define SPICEMIG_NUM_SURFACES 1024

/* agent2client/client2agent.msg_filter_result values. */
#define SPICEMIG_AGENT_MSG_FILTER_OK              0
#define SPICEMIG_AGENT_MSG_FILTER_DISCARD         1
#define SPICEMIG_AGENT_MSG_FILTER_PROTO_ERROR     2
#define SPICEMIG_AGENT_MSG_FILTER_MONITORS_CONFIG 3

#include <spice/start-packed.h>

/* SpiceMigrateDataHeader: the start of every body. */
typedef struct SPICE_ATTR_PACKED {
    guint32 magic;
    guint32 version;
} spicemig_md_header_t;

/* SpiceMigrateDataCharDevice: the first part of MNMD, SCMD and SVMD. */
typedef struct SPICE_ATTR_PACKED {
    guint32 version;
    guint8  connected;
    guint32 num_client_tokens;
    guint32 num_send_tokens;
    guint32 write_size;
    guint32 write_num_client_tokens;
    guint32 write_data_ptr;
} spicemig_md_char_device_t;

/* SpiceMigrateDataSpiceVmc */
typedef struct SPICE_ATTR_PACKED {
    spicemig_md_char_device_t base;
} spicemig_md_spicevmc_t;

/* SpiceMigrateDataSmartcard */
typedef struct SPICE_ATTR_PACKED {
    spicemig_md_char_device_t base;
    guint8  reader_added;
    guint32 read_size;
    guint32 read_data_ptr;
} spicemig_md_smartcard_t;

/* SpiceMigrateDataMain */
typedef struct SPICE_ATTR_PACKED {
    spicemig_md_char_device_t agent_base;
    guint8 client_agent_started;
    struct SPICE_ATTR_PACKED {
        guint32        chunk_header_size;
        VDIChunkHeader chunk_header;
        guint8         msg_header_done;
        guint32        msg_header_partial_len;
        guint32        msg_header_ptr;
        guint32        msg_remaining;
        guint8         msg_filter_result;
    } agent2client;
    struct SPICE_ATTR_PACKED {
        guint32 msg_remaining;
        guint8  msg_filter_result;
    } client2agent;
} spicemig_md_main_t;

/* GlzEncDictRestoreData (server/glz-encoder-dict.h), part of the display body. */
typedef struct SPICE_ATTR_PACKED {
    guint32 size;            /* window size in pixels */
    guint32 max_encoders;
    guint64 last_image_id;
} spicemig_md_glz_dict_t;

/* SpiceMigrateDataDisplay */
typedef struct SPICE_ATTR_PACKED {
    guint64 message_serial;
    guint8  low_bandwidth_setting;
    guint8  pixmap_cache_id;
    gint64  pixmap_cache_size;
    guint8  pixmap_cache_freezer;
    guint64 pixmap_cache_clients[SPICEMIG_MIGRATE_DATA_DISPLAY_MAX_CACHE_CLIENTS];
    guint8  glz_dict_id;
    spicemig_md_glz_dict_t glz_dict_data;
    guint32 surfaces_at_client_ptr;
} spicemig_md_display_t;

/* MigrateDisplaySurfacesAtClientLossless/Lossy: num_surfaces, then that
 * many entries of one of the two surface layouts below. */
typedef struct SPICE_ATTR_PACKED {
    guint32 num_surfaces;
} spicemig_md_surfaces_t;

/* MigrateDisplaySurfaceLossless */
typedef struct SPICE_ATTR_PACKED {
    guint32 id;
} spicemig_md_surface_lossless_t;

/* SpiceMigrateDataRect */
typedef struct SPICE_ATTR_PACKED {
    gint32 left;
    gint32 top;
    gint32 right;
    gint32 bottom;
} spicemig_md_rect_t;

/* MigrateDisplaySurfaceLossy */
typedef struct SPICE_ATTR_PACKED {
    guint32 id;
    spicemig_md_rect_t lossy_rect;
} spicemig_md_surface_lossy_t;

/* SpiceMigrateDataInputs */
typedef struct SPICE_ATTR_PACKED {
    guint16 motion_count;
} spicemig_md_inputs_t;

#include <spice/end-packed.h>

/* Offset of a member of body structure `type` from the start of the body,
 * which is where offset pointers count from. */
#define SPICEMIG_MD_OFFSET(type, member) \
    ((guint32)(sizeof(spicemig_md_header_t) + offsetof(type, member)))

/* End of a body's fixed part: the header and the structure. */
#define SPICEMIG_MD_FIXED_PART_END(type) \
    ((guint32)(sizeof(spicemig_md_header_t) + sizeof(type)))

/* Size of one member of a structure. */
#define SPICEMIG_MD_SIZEOF(type, member) ((guint32)sizeof(((type *)0)->member))

/* The sizes spice-server 0.15.1 writes, so a layout slip cannot go unnoticed. */
G_STATIC_ASSERT(sizeof(spicemig_md_header_t) == 8);
G_STATIC_ASSERT(sizeof(spicemig_md_char_device_t) == 25);
G_STATIC_ASSERT(sizeof(spicemig_md_spicevmc_t) == 25);
G_STATIC_ASSERT(sizeof(spicemig_md_smartcard_t) == 25 + 9);
G_STATIC_ASSERT(sizeof(spicemig_md_main_t) == 57);
G_STATIC_ASSERT(sizeof(spicemig_md_display_t) == 72);
G_STATIC_ASSERT(sizeof(spicemig_md_surface_lossless_t) == 4);
G_STATIC_ASSERT(sizeof(spicemig_md_surface_lossy_t) == 20);
G_STATIC_ASSERT(sizeof(spicemig_md_inputs_t) == 2);

#endif /* SPICEMIG_LAYOUTS_H */
