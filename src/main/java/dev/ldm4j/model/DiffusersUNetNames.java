package dev.ldm4j.model;

import dev.ldm4j.unet.UNetConfig;
import java.util.Arrays;
import java.util.Map;

/**
 * The name diffusers' UNet2DConditionModel gives a parameter of the CompVis UNet (below
 * {@code model.diffusion_model.}), for any UNetConfig: levels, ResBlocks per level, which levels attend.
 * diffusers counts up blocks from the lowest resolution and names ResBlock layers by role (norm1, conv1, ...);
 * attention blocks keep their inner names. Used to read kohya LoRAs made on diffusers' UNet (most SD 1.x
 * LoRAs: {@code lora_unet_down_blocks_0_attentions_0_...}).
 */
final class DiffusersUNetNames {
    private static final Map<String, String> FIXED = Map.of(
            "time_embed.0", "time_embedding.linear_1", "time_embed.2", "time_embedding.linear_2",
            "label_emb.0.0", "add_embedding.linear_1", "label_emb.0.2", "add_embedding.linear_2",
            "input_blocks.0.0", "conv_in", "out.0", "conv_norm_out", "out.2", "conv_out");
    private static final Map<String, String> RESNET = Map.of(
            "in_layers.0", "norm1", "in_layers.2", "conv1", "emb_layers.1", "time_emb_proj",
            "out_layers.0", "norm2", "out_layers.3", "conv2", "skip_connection", "conv_shortcut");

    private DiffusersUNetNames() {}

    /** The diffusers name of a CompVis UNet key or module path, or null where there is none. */
    static String of(String compvis, UNetConfig u) {
        for (Map.Entry<String, String> e : FIXED.entrySet()) {
            if (compvis.equals(e.getKey()) || compvis.startsWith(e.getKey() + ".")) {
                return e.getValue() + compvis.substring(e.getKey().length());
            }
        }
        if (compvis.startsWith("middle_block.")) {
            String[] m = compvis.split("\\.", 3);
            String rest = m.length == 3 ? m[2] : "";
            return switch (m[1]) {
                case "0" -> "mid_block.resnets.0" + resnet(rest);
                case "1" -> "mid_block.attentions.0" + dot(rest);
                case "2" -> "mid_block.resnets.1" + resnet(rest);
                default -> null;
            };
        }
        String[] p = compvis.split("\\.", 4);
        if (p.length < 3) {
            return null;
        }
        String rest = p.length == 4 ? p[3] : "";
        int levels = u.channelMult().length;
        int perLevel = u.numResBlocks() + 1;
        int block;
        int layer;
        try {
            block = Integer.parseInt(p[1]);
            layer = Integer.parseInt(p[2]);
        } catch (NumberFormatException e) {
            return null;
        }
        switch (p[0]) {
            case "input_blocks" -> {
                int level = (block - 1) / perLevel;
                int j = (block - 1) % perLevel;
                if (block < 1 || level >= levels) {
                    return null;
                }
                if (j == u.numResBlocks()) {
                    return layer == 0 && rest.startsWith("op")
                            ? "down_blocks." + level + ".downsamplers.0.conv" + rest.substring(2) : null;
                }
                return layer == 0 ? "down_blocks." + level + ".resnets." + j + resnet(rest)
                        : layer == 1 ? "down_blocks." + level + ".attentions." + j + dot(rest) : null;
            }
            case "output_blocks" -> {
                int up = block / perLevel;
                int j = block % perLevel;
                int level = levels - 1 - up;
                if (level < 0) {
                    return null;
                }
                boolean attends = attends(u, level);
                if (layer == 0) {
                    return "up_blocks." + up + ".resnets." + j + resnet(rest);
                }
                if (layer == 1 && attends) {
                    return "up_blocks." + up + ".attentions." + j + dot(rest);
                }
                return layer == (attends ? 2 : 1) && j == u.numResBlocks() && level > 0
                        ? "up_blocks." + up + ".upsamplers.0" + dot(rest) : null;
            }
            default -> {
                return null;
            }
        }
    }

    /** The CompVis name of a diffusers UNet key or module path, or null where there is none (the inverse of {@link #of}). */
    static String toCompVis(String diffusers, UNetConfig u) {
        for (Map.Entry<String, String> e : FIXED.entrySet()) {
            if (diffusers.equals(e.getValue()) || diffusers.startsWith(e.getValue() + ".")) {
                return e.getKey() + diffusers.substring(e.getValue().length());
            }
        }
        int perLevel = u.numResBlocks() + 1;
        int levels = u.channelMult().length;
        String[] p = diffusers.split("\\.", 5);
        try {
            if (p[0].equals("mid_block") && p.length >= 3) {
                String rest = p.length > 3 ? diffusers.substring(p[0].length() + p[1].length() + p[2].length() + 3) : "";
                int j = Integer.parseInt(p[2]);
                if (p[1].equals("attentions") && j == 0) {
                    return "middle_block.1" + dot(rest);
                }
                return p[1].equals("resnets") && j <= 1 ? "middle_block." + (2 * j) + compvisResnet(rest) : null;
            }
            if (p.length < 4) {
                return null;
            }
            int level = Integer.parseInt(p[1]);
            int j = Integer.parseInt(p[3]);
            String rest = p.length == 5 ? p[4] : "";
            switch (p[0] + "." + p[2]) {
                case "down_blocks.resnets" -> {
                    return "input_blocks." + (1 + level * perLevel + j) + ".0" + compvisResnet(rest);
                }
                case "down_blocks.attentions" -> {
                    return "input_blocks." + (1 + level * perLevel + j) + ".1" + dot(rest);
                }
                case "down_blocks.downsamplers" -> {
                    return j == 0 && (rest.equals("conv") || rest.startsWith("conv."))
                            ? "input_blocks." + ((level + 1) * perLevel) + ".0.op" + rest.substring(4) : null;
                }
                case "up_blocks.resnets" -> {
                    return "output_blocks." + (level * perLevel + j) + ".0" + compvisResnet(rest);
                }
                case "up_blocks.attentions" -> {
                    return "output_blocks." + (level * perLevel + j) + ".1" + dot(rest);
                }
                case "up_blocks.upsamplers" -> {
                    int compvisLevel = levels - 1 - level;
                    return j == 0 ? "output_blocks." + (level * perLevel + u.numResBlocks()) + "."
                            + (attends(u, compvisLevel) ? 2 : 1) + dot(rest) : null;
                }
                default -> {
                    return null;
                }
            }
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String compvisResnet(String rest) {
        for (Map.Entry<String, String> e : RESNET.entrySet()) {
            if (rest.equals(e.getValue()) || rest.startsWith(e.getValue() + ".")) {
                return "." + e.getKey() + rest.substring(e.getValue().length());
            }
        }
        return dot(rest);
    }

    private static boolean attends(UNetConfig u, int level) {
        int ds = 1 << level;
        return Arrays.stream(u.attentionResolutions()).anyMatch(r -> r == ds) && u.transformerDepth(level) > 0;
    }

    private static String resnet(String rest) {
        for (Map.Entry<String, String> e : RESNET.entrySet()) {
            if (rest.equals(e.getKey()) || rest.startsWith(e.getKey() + ".")) {
                return "." + e.getValue() + rest.substring(e.getKey().length());
            }
        }
        return dot(rest);
    }

    private static String dot(String rest) {
        return rest.isEmpty() ? "" : "." + rest;
    }
}
