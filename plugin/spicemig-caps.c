/* spicemig-caps.c
 * The capability words of the SPICE link messages, each bit named after
 * spice-protocol's enums: the common capabilities, and the channel
 * capabilities of the link's channel type.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <wireshark.h>
#include <epan/packet.h>
#include <epan/tfs.h>

#include "spicemig.h"

static int hf_common_caps = -1;
static int hf_common_cap_auth_selection = -1;
static int hf_common_cap_auth_spice = -1;
static int hf_common_cap_auth_sasl = -1;
static int hf_common_cap_mini_header = -1;
static int hf_channel_caps = -1;

static int hf_main_caps[4] = { -1, -1, -1, -1 };
static int hf_display_caps[15] = { -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1 };
static int hf_inputs_caps[1] = { -1 };
static int hf_playback_caps[4] = { -1, -1, -1, -1 };
static int hf_record_caps[3] = { -1, -1, -1 };
static int hf_spicevmc_caps[1] = { -1 };

static gint ett_common_caps = -1;
static gint ett_channel_caps = -1;

static int * const common_cap_fields[] = {
    &hf_common_cap_auth_selection,
    &hf_common_cap_auth_spice,
    &hf_common_cap_auth_sasl,
    &hf_common_cap_mini_header,
    NULL
};

static int * const main_cap_fields[] = {
    &hf_main_caps[0], &hf_main_caps[1], &hf_main_caps[2], &hf_main_caps[3], NULL
};
static int * const display_cap_fields[] = {
    &hf_display_caps[0], &hf_display_caps[1], &hf_display_caps[2], &hf_display_caps[3],
    &hf_display_caps[4], &hf_display_caps[5], &hf_display_caps[6], &hf_display_caps[7],
    &hf_display_caps[8], &hf_display_caps[9], &hf_display_caps[10], &hf_display_caps[11],
    &hf_display_caps[12], &hf_display_caps[13], &hf_display_caps[14], NULL
};
static int * const inputs_cap_fields[] = { &hf_inputs_caps[0], NULL };
static int * const playback_cap_fields[] = {
    &hf_playback_caps[0], &hf_playback_caps[1], &hf_playback_caps[2], &hf_playback_caps[3], NULL
};
static int * const record_cap_fields[] = { &hf_record_caps[0], &hf_record_caps[1], &hf_record_caps[2], NULL };
static int * const spicevmc_cap_fields[] = { &hf_spicevmc_caps[0], NULL };

/* The named bits of the first channel capability word; NULL for a channel
 * type that has none. */
static int * const *
channel_cap_fields(guint8 channel_type)
{
    switch (channel_type) {
    case SPICE_CHANNEL_MAIN:     return main_cap_fields;
    case SPICE_CHANNEL_DISPLAY:  return display_cap_fields;
    case SPICE_CHANNEL_INPUTS:   return inputs_cap_fields;
    case SPICE_CHANNEL_PLAYBACK: return playback_cap_fields;
    case SPICE_CHANNEL_RECORD:   return record_cap_fields;
    case SPICE_CHANNEL_USBREDIR:
    case SPICE_CHANNEL_PORT:
    case SPICE_CHANNEL_WEBDAV:   return spicevmc_cap_fields;
    default:                     return NULL;
    }
}

static void
add_caps_word(proto_tree *tree, tvbuff_t *tvb, int offset, int hf, gint ett, int * const *bits)
{
    proto_item *item;

    if (bits)
        item = proto_tree_add_bitmask(tree, tvb, offset, hf, ett, bits, ENC_LITTLE_ENDIAN);
    else
        item = proto_tree_add_item(tree, hf, tvb, offset, 4, ENC_LITTLE_ENDIAN);
    if (tvb_get_letohl(tvb, offset) == 0)
        proto_item_append_text(item, " (none)");
}

void
spicemig_add_link_caps(proto_tree *tree, tvbuff_t *tvb, int caps_start, guint32 num_common,
                       guint32 num_channel, guint8 channel_type)
{
    guint32 i;

    for (i = 0; i < num_common; i++)
        add_caps_word(tree, tvb, caps_start + 4 * i, hf_common_caps, ett_common_caps,
                      i == 0 ? common_cap_fields : NULL);
    /* Only the first word of each has named bits so far. */
    for (i = 0; i < num_channel; i++)
        add_caps_word(tree, tvb, caps_start + 4 * (num_common + i), hf_channel_caps, ett_channel_caps,
                      i == 0 ? channel_cap_fields(channel_type) : NULL);
}

#define CAP(hf, label, abbrev, bit) \
    { &(hf), { label, "spicemig.link.channel_caps." abbrev, FT_BOOLEAN, 32, TFS(&tfs_yes_no), \
               1u << (bit), "spice-protocol's " #bit, HFILL } }

void
spicemig_register_caps(int proto)
{
    static hf_register_info hf[] = {
        { &hf_common_caps, { "Common capabilities", "spicemig.link.common_caps", FT_UINT32, BASE_HEX,
            NULL, 0x0, "Capabilities every channel type shares", HFILL } },
        { &hf_common_cap_auth_selection, { "Auth selection", "spicemig.link.common_caps.auth_selection",
            FT_BOOLEAN, 32, TFS(&tfs_yes_no), 1u << SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION,
            "SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION: the client picks the authentication mechanism", HFILL } },
        { &hf_common_cap_auth_spice, { "SPICE ticket auth", "spicemig.link.common_caps.auth_spice",
            FT_BOOLEAN, 32, TFS(&tfs_yes_no), 1u << SPICE_COMMON_CAP_AUTH_SPICE,
            "SPICE_COMMON_CAP_AUTH_SPICE: authentication by encrypted ticket", HFILL } },
        { &hf_common_cap_auth_sasl, { "SASL auth", "spicemig.link.common_caps.auth_sasl",
            FT_BOOLEAN, 32, TFS(&tfs_yes_no), 1u << SPICE_COMMON_CAP_AUTH_SASL,
            "SPICE_COMMON_CAP_AUTH_SASL: authentication by SASL", HFILL } },
        { &hf_common_cap_mini_header, { "Mini header offered", "spicemig.link.common_caps.mini_header",
            FT_BOOLEAN, 32, TFS(&tfs_yes_no), 1u << SPICE_COMMON_CAP_MINI_HEADER,
            "SPICE_COMMON_CAP_MINI_HEADER: 6-byte message headers, used when both sides offer them", HFILL } },
        { &hf_channel_caps, { "Channel capabilities", "spicemig.link.channel_caps", FT_UINT32, BASE_HEX,
            NULL, 0x0, "Capabilities of the link's channel type", HFILL } },

        CAP(hf_main_caps[0], "Main: semi-seamless migration", "main.semi_seamless_migrate",
            SPICE_MAIN_CAP_SEMI_SEAMLESS_MIGRATE),
        CAP(hf_main_caps[1], "Main: name and UUID", "main.name_and_uuid", SPICE_MAIN_CAP_NAME_AND_UUID),
        CAP(hf_main_caps[2], "Main: agent connected tokens", "main.agent_connected_tokens",
            SPICE_MAIN_CAP_AGENT_CONNECTED_TOKENS),
        CAP(hf_main_caps[3], "Main: seamless migration", "main.seamless_migrate", SPICE_MAIN_CAP_SEAMLESS_MIGRATE),

        CAP(hf_display_caps[0], "Display: sized stream", "display.sized_stream", SPICE_DISPLAY_CAP_SIZED_STREAM),
        CAP(hf_display_caps[1], "Display: monitors config", "display.monitors_config",
            SPICE_DISPLAY_CAP_MONITORS_CONFIG),
        CAP(hf_display_caps[2], "Display: composite", "display.composite", SPICE_DISPLAY_CAP_COMPOSITE),
        CAP(hf_display_caps[3], "Display: A8 surface", "display.a8_surface", SPICE_DISPLAY_CAP_A8_SURFACE),
        CAP(hf_display_caps[4], "Display: stream report", "display.stream_report", SPICE_DISPLAY_CAP_STREAM_REPORT),
        CAP(hf_display_caps[5], "Display: LZ4 compression", "display.lz4_compression",
            SPICE_DISPLAY_CAP_LZ4_COMPRESSION),
        CAP(hf_display_caps[6], "Display: preferred compression", "display.pref_compression",
            SPICE_DISPLAY_CAP_PREF_COMPRESSION),
        CAP(hf_display_caps[7], "Display: GL scanout", "display.gl_scanout", SPICE_DISPLAY_CAP_GL_SCANOUT),
        CAP(hf_display_caps[8], "Display: multi codec", "display.multi_codec", SPICE_DISPLAY_CAP_MULTI_CODEC),
        CAP(hf_display_caps[9], "Display: MJPEG codec", "display.codec_mjpeg", SPICE_DISPLAY_CAP_CODEC_MJPEG),
        CAP(hf_display_caps[10], "Display: VP8 codec", "display.codec_vp8", SPICE_DISPLAY_CAP_CODEC_VP8),
        CAP(hf_display_caps[11], "Display: H.264 codec", "display.codec_h264", SPICE_DISPLAY_CAP_CODEC_H264),
        CAP(hf_display_caps[12], "Display: preferred video codec type", "display.pref_video_codec_type",
            SPICE_DISPLAY_CAP_PREF_VIDEO_CODEC_TYPE),
        CAP(hf_display_caps[13], "Display: VP9 codec", "display.codec_vp9", SPICE_DISPLAY_CAP_CODEC_VP9),
        CAP(hf_display_caps[14], "Display: H.265 codec", "display.codec_h265", SPICE_DISPLAY_CAP_CODEC_H265),

        CAP(hf_inputs_caps[0], "Inputs: key scancode", "inputs.key_scancode", SPICE_INPUTS_CAP_KEY_SCANCODE),

        CAP(hf_playback_caps[0], "Playback: CELT 0.5.1", "playback.celt_0_5_1", SPICE_PLAYBACK_CAP_CELT_0_5_1),
        CAP(hf_playback_caps[1], "Playback: volume", "playback.volume", SPICE_PLAYBACK_CAP_VOLUME),
        CAP(hf_playback_caps[2], "Playback: latency", "playback.latency", SPICE_PLAYBACK_CAP_LATENCY),
        CAP(hf_playback_caps[3], "Playback: Opus", "playback.opus", SPICE_PLAYBACK_CAP_OPUS),

        CAP(hf_record_caps[0], "Record: CELT 0.5.1", "record.celt_0_5_1", SPICE_RECORD_CAP_CELT_0_5_1),
        CAP(hf_record_caps[1], "Record: volume", "record.volume", SPICE_RECORD_CAP_VOLUME),
        CAP(hf_record_caps[2], "Record: Opus", "record.opus", SPICE_RECORD_CAP_OPUS),

        CAP(hf_spicevmc_caps[0], "SPICE VMC: LZ4 data compression", "spicevmc.data_compress_lz4",
            SPICE_SPICEVMC_CAP_DATA_COMPRESS_LZ4),
    };
    static gint *ett[] = { &ett_common_caps, &ett_channel_caps };

    proto_register_field_array(proto, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
}
