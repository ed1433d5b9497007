package dev.ldm4j.vae;

import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.io.TensorInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Hyper-parameters of a KL autoencoder: the {@code ddconfig} of an LDM YAML plus {@code embed_dim} (from
 * {@code first_stage_config.params}) and the diffusion model's {@code scale_factor}.
 *
 * @param ch              base channel count
 * @param chMult          channel multiplier per resolution level; its length fixes the downscale factor
 * @param numResBlocks    ResnetBlocks per encoder level (the decoder has one more per level)
 * @param zChannels       channels of the encoder output (half of its conv_out: mean and logvar)
 * @param embedDim        latent channels after quant_conv
 * @param inChannels      image channels in
 * @param outCh           image channels out
 * @param attnResolutions feature-map sizes (relative to {@code resolution}) whose levels get attention
 * @param resolution      nominal image size; only used to place attention blocks
 * @param scaleFactor     diffusion latent = scaleFactor * VAE latent
 */
public record VaeConfig(int ch, int[] chMult, int numResBlocks, int zChannels, int embedDim, int inChannels,
                        int outCh, int[] attnResolutions, int resolution, double scaleFactor) {

    /** The scale factor of SD 1.x / 2.x (and of every LDM config that uses the f = 8 KL VAE). */
    public static final double SD_SCALE_FACTOR = 0.18215;

    /** LatentDiffusion's own default when a YAML gives no scale_factor. */
    private static final double LDM_DEFAULT_SCALE_FACTOR = 1.0;

    public VaeConfig {
        chMult = chMult.clone();
        attnResolutions = attnResolutions.clone();
        if (ch <= 0 || chMult.length == 0 || numResBlocks <= 0 || zChannels <= 0 || embedDim <= 0
                || inChannels <= 0 || outCh <= 0 || resolution <= 0) {
            throw new IllegalArgumentException("invalid VAE config: ch " + ch + ", ch_mult " + Arrays.toString(chMult)
                    + ", num_res_blocks " + numResBlocks + ", z_channels " + zChannels + ", embed_dim " + embedDim
                    + ", in_channels " + inChannels + ", out_ch " + outCh + ", resolution " + resolution);
        }
        for (int m : chMult) {
            if (m <= 0) {
                throw new IllegalArgumentException("invalid VAE ch_mult " + Arrays.toString(chMult));
            }
        }
    }

    /** The VAE of SD 1.x and 2.x: f = 8, 4 latent channels, no attention outside the mid blocks. */
    public static VaeConfig sd() {
        return new VaeConfig(128, new int[] {1, 2, 4, 4}, 2, 4, 4, 3, 3, new int[0], 256, SD_SCALE_FACTOR);
    }

    @Override
    public int[] chMult() {
        return chMult.clone();
    }

    @Override
    public int[] attnResolutions() {
        return attnResolutions.clone();
    }

    public int levels() {
        return chMult.length;
    }

    /** Channels at resolution level {@code level}. */
    public int channels(int level) {
        return ch * chMult[level];
    }

    /** Image pixels per latent pixel along each axis: 2^(levels - 1). */
    public int downscaleFactor() {
        return 1 << (chMult.length - 1);
    }

    /** Whether the level whose feature maps have size {@code res} carries attention blocks. */
    boolean hasAttention(int res) {
        for (int r : attnResolutions) {
            if (r == res) {
                return true;
            }
        }
        return false;
    }

    public VaeConfig withScaleFactor(double s) {
        return new VaeConfig(ch, chMult, numResBlocks, zChannels, embedDim, inChannels, outCh, attnResolutions,
                resolution, s);
    }

    /**
     * From the parsed {@code ddconfig} map of an LDM YAML ({@code first_stage_config.params.ddconfig}).
     * {@code embed_dim} and {@code scale_factor} live elsewhere in the YAML, so they are passed in.
     */
    public static VaeConfig fromDdconfig(Map<String, ?> dd, int embedDim, double scaleFactor) {
        Object doubleZ = dd.get("double_z");
        if (doubleZ != null && !Boolean.TRUE.equals(doubleZ)) {
            throw new IllegalArgumentException("ddconfig double_z must be true for a KL autoencoder, got " + doubleZ);
        }
        return new VaeConfig(
                intOf(dd, "ch", null),
                intsOf(dd, "ch_mult", null),
                intOf(dd, "num_res_blocks", null),
                intOf(dd, "z_channels", null),
                embedDim,
                intOf(dd, "in_channels", 3),
                intOf(dd, "out_ch", 3),
                intsOf(dd, "attn_resolutions", new int[0]),
                intOf(dd, "resolution", 256),
                scaleFactor);
    }

    /** From {@code first_stage_config} (the map holding {@code target} and {@code params}). */
    public static VaeConfig fromFirstStageConfig(Map<String, ?> firstStageConfig, double scaleFactor) {
        Map<String, ?> params = mapOf(firstStageConfig, "params");
        return fromDdconfig(mapOf(params, "ddconfig"), intOf(params, "embed_dim", null), scaleFactor);
    }

    /** From a whole parsed LDM YAML ({@code model.params.first_stage_config}, {@code model.params.scale_factor}). */
    public static VaeConfig fromLdmConfig(Map<String, ?> root) {
        Map<String, ?> params = mapOf(mapOf(root, "model"), "params");
        Object sf = params.get("scale_factor");
        double scale = sf == null ? LDM_DEFAULT_SCALE_FACTOR : number(sf, "scale_factor").doubleValue();
        return fromFirstStageConfig(mapOf(params, "first_stage_config"), scale);
    }

    /**
     * Reads the architecture off the tensor shapes below {@code prefix} (e.g. {@code "first_stage_model."}).
     * Attention levels are found from their keys and expressed relative to a nominal resolution of 256.
     */
    public static VaeConfig detect(SafetensorsFile file, String prefix, double scaleFactor) {
        String p = prefix.isEmpty() || prefix.endsWith(".") ? prefix : prefix + ".";
        long[] convIn = shapeOf(file, p + "encoder.conv_in.weight");
        int ch = (int) convIn[0];
        int inChannels = (int) convIn[1];
        List<Integer> mult = new ArrayList<>();
        while (file.has(p + "encoder.down." + mult.size() + ".block.0.conv1.weight")) {
            long out = file.info(p + "encoder.down." + mult.size() + ".block.0.conv1.weight").shape()[0];
            if (out % ch != 0) {
                throw new ModelFileException(file.path() + ": VAE level " + mult.size() + " has " + out
                        + " channels, not a multiple of conv_in's " + ch);
            }
            mult.add((int) (out / ch));
        }
        if (mult.isEmpty()) {
            throw new ModelFileException(file.path() + ": no VAE encoder levels under '" + p + "encoder.down.'");
        }
        int blocks = 0;
        while (file.has(p + "encoder.down.0.block." + blocks + ".conv1.weight")) {
            blocks++;
        }
        int resolution = 256;
        List<Integer> attn = new ArrayList<>();
        for (int i = 0; i < mult.size(); i++) {
            if (file.has(p + "encoder.down." + i + ".attn.0.q.weight")) {
                attn.add(resolution >> i);
            }
        }
        int zChannels = (int) shapeOf(file, p + "decoder.conv_in.weight")[1];
        int embedDim = (int) shapeOf(file, p + "post_quant_conv.weight")[1];
        int outCh = (int) shapeOf(file, p + "decoder.conv_out.weight")[0];
        return new VaeConfig(ch, mult.stream().mapToInt(Integer::intValue).toArray(), blocks, zChannels, embedDim,
                inChannels, outCh, attn.stream().mapToInt(Integer::intValue).toArray(), resolution, scaleFactor);
    }

    private static long[] shapeOf(SafetensorsFile file, String key) {
        if (!file.has(key)) {
            throw new ModelFileException(file.path() + ": missing key '" + key + "' (looking for a KL VAE)");
        }
        TensorInfo info = file.info(key);
        return info.shape();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, ?> mapOf(Map<String, ?> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof Map)) {
            throw new IllegalArgumentException("VAE config: '" + key + "' is missing or not a map");
        }
        return (Map<String, ?>) v;
    }

    private static Number number(Object v, String key) {
        if (!(v instanceof Number n)) {
            throw new IllegalArgumentException("VAE config: '" + key + "' is not a number: " + v);
        }
        return n;
    }

    private static int intOf(Map<String, ?> m, String key, Integer dflt) {
        Object v = m.get(key);
        if (v == null) {
            if (dflt == null) {
                throw new IllegalArgumentException("VAE config: missing '" + key + "'");
            }
            return dflt;
        }
        return number(v, key).intValue();
    }

    private static int[] intsOf(Map<String, ?> m, String key, int[] dflt) {
        Object v = m.get(key);
        if (v == null) {
            if (dflt == null) {
                throw new IllegalArgumentException("VAE config: missing '" + key + "'");
            }
            return dflt;
        }
        if (!(v instanceof List<?> list)) {
            throw new IllegalArgumentException("VAE config: '" + key + "' is not a list: " + v);
        }
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = number(list.get(i), key).intValue();
        }
        return out;
    }

    // Records compare arrays by identity; configs are values, so compare contents.
    @Override
    public boolean equals(Object o) {
        return o instanceof VaeConfig c && ch == c.ch && Arrays.equals(chMult, c.chMult)
                && numResBlocks == c.numResBlocks && zChannels == c.zChannels && embedDim == c.embedDim
                && inChannels == c.inChannels && outCh == c.outCh && Arrays.equals(attnResolutions, c.attnResolutions)
                && resolution == c.resolution && Double.compare(scaleFactor, c.scaleFactor) == 0;
    }

    @Override
    public int hashCode() {
        int h = Integer.hashCode(ch);
        h = 31 * h + Arrays.hashCode(chMult);
        h = 31 * h + numResBlocks;
        h = 31 * h + zChannels;
        h = 31 * h + embedDim;
        h = 31 * h + inChannels;
        h = 31 * h + outCh;
        h = 31 * h + Arrays.hashCode(attnResolutions);
        h = 31 * h + resolution;
        return 31 * h + Double.hashCode(scaleFactor);
    }

    @Override
    public String toString() {
        return "VaeConfig[ch=" + ch + ", chMult=" + Arrays.toString(chMult) + ", numResBlocks=" + numResBlocks
                + ", zChannels=" + zChannels + ", embedDim=" + embedDim + ", inChannels=" + inChannels
                + ", outCh=" + outCh + ", attnResolutions=" + Arrays.toString(attnResolutions)
                + ", resolution=" + resolution + ", scaleFactor=" + scaleFactor + "]";
    }
}
