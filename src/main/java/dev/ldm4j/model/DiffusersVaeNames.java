package dev.ldm4j.model;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The names diffusers' AutoencoderKL gives the CompVis VAE's parameters (below {@code first_stage_model.}), for
 * any number of levels: ResBlocks are {@code resnets}, the decoder's levels count from the lowest resolution,
 * and the middle attention's 1x1 convolutions are Linear layers ([c, c] instead of [c, c, 1, 1], the same
 * bytes). diffusers has used two spellings for that attention: query/key/value/proj_attn (older folders, and
 * its conversion script) and to_q/to_k/to_v/to_out.0 (what it saves now); both are read, the newer written.
 */
final class DiffusersVaeNames {
    private static final Pattern DOWN = Pattern.compile("encoder\\.down\\.(\\d+)\\.(block\\.(\\d+)|downsample)\\.(.*)");
    private static final Pattern UP = Pattern.compile("decoder\\.up\\.(\\d+)\\.(block\\.(\\d+)|upsample)\\.(.*)");
    private static final Pattern MID = Pattern.compile("(encoder|decoder)\\.mid\\.(block_(\\d)|attn_1)\\.(.*)");
    private static final Pattern HF_DOWN = Pattern.compile(
            "encoder\\.down_blocks\\.(\\d+)\\.(resnets\\.(\\d+)|downsamplers\\.0)\\.(.*)");
    private static final Pattern HF_UP = Pattern.compile(
            "decoder\\.up_blocks\\.(\\d+)\\.(resnets\\.(\\d+)|upsamplers\\.0)\\.(.*)");
    private static final Pattern HF_MID = Pattern.compile(
            "(encoder|decoder)\\.mid_block\\.(resnets\\.(\\d)|attentions\\.0)\\.(.*)");
    /** CompVis attention name -> diffusers' older and newer names. */
    private static final Map<String, String[]> ATTENTION = Map.of("norm", new String[] {"group_norm", "group_norm"},
            "q", new String[] {"query", "to_q"}, "k", new String[] {"key", "to_k"}, "v", new String[] {"value", "to_v"},
            "proj_out", new String[] {"proj_attn", "to_out.0"});

    private DiffusersVaeNames() {}

    /** The diffusers name of a CompVis VAE key, in the older spelling its conversion script uses. */
    static String of(String key, int levels) {
        return name(key, levels, 0);
    }

    /** The diffusers name of a CompVis VAE key, as diffusers saves it now (to_q, ..., to_out.0). */
    static String modern(String key, int levels) {
        return name(key, levels, 1);
    }

    /** Whether a CompVis VAE key is one of the middle attention's 1x1 convolution weights (Linear in diffusers). */
    static boolean isAttentionProjection(String key) {
        return key.matches("(encoder|decoder)\\.mid\\.attn_1\\.(q|k|v|proj_out)\\.weight");
    }

    private static String name(String key, int levels, int spelling) {
        Matcher m = DOWN.matcher(key);
        if (m.matches()) {
            return "encoder.down_blocks." + m.group(1) + "." + (m.group(3) != null ? "resnets." + m.group(3)
                    : "downsamplers.0") + "." + resnet(m.group(4));
        }
        m = UP.matcher(key);
        if (m.matches()) {
            int up = levels - 1 - Integer.parseInt(m.group(1));
            return "decoder.up_blocks." + up + "." + (m.group(3) != null ? "resnets." + m.group(3) : "upsamplers.0")
                    + "." + resnet(m.group(4));
        }
        m = MID.matcher(key);
        if (m.matches()) {
            if (m.group(3) != null) {
                return m.group(1) + ".mid_block.resnets." + (Integer.parseInt(m.group(3)) - 1) + "." + resnet(m.group(4));
            }
            String rest = m.group(4);
            int dot = rest.indexOf('.');
            String[] names = ATTENTION.get(rest.substring(0, dot));
            return names == null ? null : m.group(1) + ".mid_block.attentions.0." + names[spelling] + rest.substring(dot);
        }
        if (key.endsWith(".norm_out.weight") || key.endsWith(".norm_out.bias")) {
            return key.replace(".norm_out.", ".conv_norm_out.");
        }
        return key; // conv_in, conv_out, quant_conv, post_quant_conv
    }

    /** The CompVis name of a diffusers VAE key in either spelling (the inverse of {@link #of}). */
    static String toCompVis(String key, int levels) {
        Matcher m = HF_DOWN.matcher(key);
        if (m.matches()) {
            return "encoder.down." + m.group(1) + "." + (m.group(3) != null ? "block." + m.group(3) : "downsample")
                    + "." + compvisResnet(m.group(4));
        }
        m = HF_UP.matcher(key);
        if (m.matches()) {
            int level = levels - 1 - Integer.parseInt(m.group(1));
            return "decoder.up." + level + "." + (m.group(3) != null ? "block." + m.group(3) : "upsample") + "."
                    + compvisResnet(m.group(4));
        }
        m = HF_MID.matcher(key);
        if (m.matches()) {
            if (m.group(3) != null) {
                return m.group(1) + ".mid.block_" + (Integer.parseInt(m.group(3)) + 1) + "." + compvisResnet(m.group(4));
            }
            String rest = m.group(4);
            for (Map.Entry<String, String[]> e : ATTENTION.entrySet()) {
                for (String spelling : e.getValue()) {
                    if (rest.startsWith(spelling + ".")) {
                        return m.group(1) + ".mid.attn_1." + e.getKey() + rest.substring(spelling.length());
                    }
                }
            }
            return null;
        }
        if (key.endsWith(".conv_norm_out.weight") || key.endsWith(".conv_norm_out.bias")) {
            return key.replace(".conv_norm_out.", ".norm_out.");
        }
        return key;
    }

    private static String resnet(String rest) {
        return rest.startsWith("nin_shortcut.") ? "conv_shortcut." + rest.substring(13) : rest;
    }

    private static String compvisResnet(String rest) {
        return rest.startsWith("conv_shortcut.") ? "nin_shortcut." + rest.substring(14) : rest;
    }
}
