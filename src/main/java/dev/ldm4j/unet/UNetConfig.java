package dev.ldm4j.unet;

import java.util.Arrays;

/**
 * Hyper-parameters of openaimodel.UNetModel, named as in the LDM YAML {@code unet_config.params}.
 *
 * @param attentionResolutions downsampling factors (1, 2, 4, ...) at which a SpatialTransformer follows each
 *     ResBlock
 * @param numHeads heads per transformer, or -1 when {@code numHeadChannels} fixes the head width instead
 * @param disableSelfAttentions per level: attn1 attends to the context instead of itself (x4 upscaler); may
 *     be null
 * @param transformerDepth transformer blocks per SpatialTransformer, one value for every level or one per level
 *     (SDXL's YAML lists them); the middle block takes the last level's
 * @param numClasses size of the class-label embedding added to the time embedding, 0 for none
 * @param admInChannels width of the vector input (SDXL's pooled text and size embeddings) that
 *     {@code label_emb} (Linear, SiLU, Linear: the YAML's {@code num_classes: sequential}) adds to the time
 *     embedding, 0 for none
 */
public record UNetConfig(
        int inChannels,
        int outChannels,
        int modelChannels,
        int[] attentionResolutions,
        int numResBlocks,
        int[] channelMult,
        int numHeads,
        int numHeadChannels,
        int[] transformerDepth,
        int contextDim,
        boolean useLinearInTransformer,
        boolean legacy,
        boolean[] disableSelfAttentions,
        int numClasses,
        int admInChannels) {

    public UNetConfig {
        if (numClasses > 0 && admInChannels > 0) {
            throw new IllegalArgumentException("UNet config: num_classes and adm_in_channels exclude each other");
        }
        if (transformerDepth == null || transformerDepth.length == 0
                || transformerDepth.length != 1 && transformerDepth.length != channelMult.length
                || Arrays.stream(transformerDepth).anyMatch(d -> d < 0)) {
            throw new IllegalArgumentException("UNet config: transformer_depth must be one value or one per level of "
                    + "channel_mult, got " + Arrays.toString(transformerDepth));
        }
        transformerDepth = transformerDepth.clone();
        if (numHeads <= 0 && numHeadChannels <= 0) {
            throw new IllegalArgumentException("UNet config needs num_heads or num_head_channels");
        }
        if (channelMult.length == 0 || numResBlocks < 1 || modelChannels < 1) {
            throw new IllegalArgumentException("UNet config: bad channel_mult/num_res_blocks/model_channels");
        }
    }

    /** The UNet of SD 1.x ({@code v1-inference.yaml}). */
    /** Without a vector input. */
    public UNetConfig(int inChannels, int outChannels, int modelChannels, int[] attentionResolutions, int numResBlocks,
                      int[] channelMult, int numHeads, int numHeadChannels, int[] transformerDepth, int contextDim,
                      boolean useLinearInTransformer, boolean legacy, boolean[] disableSelfAttentions, int numClasses) {
        this(inChannels, outChannels, modelChannels, attentionResolutions, numResBlocks, channelMult, numHeads,
                numHeadChannels, transformerDepth, contextDim, useLinearInTransformer, legacy, disableSelfAttentions,
                numClasses, 0);
    }

    /** With one transformer depth for every level. */
    public UNetConfig(int inChannels, int outChannels, int modelChannels, int[] attentionResolutions, int numResBlocks,
                      int[] channelMult, int numHeads, int numHeadChannels, int transformerDepth, int contextDim,
                      boolean useLinearInTransformer, boolean legacy, boolean[] disableSelfAttentions, int numClasses) {
        this(inChannels, outChannels, modelChannels, attentionResolutions, numResBlocks, channelMult, numHeads,
                numHeadChannels, new int[] {transformerDepth}, contextDim, useLinearInTransformer, legacy,
                disableSelfAttentions, numClasses);
    }

    @Override
    public int[] transformerDepth() {
        return transformerDepth.clone();
    }

    /** Transformer blocks of the SpatialTransformers at {@code level} (the middle block: the last level). */
    public int transformerDepth(int level) {
        return transformerDepth.length == 1 ? transformerDepth[0] : transformerDepth[level];
    }

    /** The depth as the YAML writes it: one number when every level has the same. */
    public Object transformerDepthYaml() {
        if (Arrays.stream(transformerDepth).distinct().count() == 1) {
            return transformerDepth[0];
        }
        return Arrays.stream(transformerDepth).boxed().toList();
    }

    public static UNetConfig sd1() {
        return new UNetConfig(4, 4, 320, new int[] {4, 2, 1}, 2, new int[] {1, 2, 4, 4}, 8, -1, 1, 768, false,
                false, null, 0);
    }

    /** The UNet of SD 2.x ({@code v2-inference(-v).yaml}). */
    public static UNetConfig sd2() {
        return new UNetConfig(4, 4, 320, new int[] {4, 2, 1}, 2, new int[] {1, 2, 4, 4}, -1, 64, 1, 1024, true,
                false, null, 0);
    }

    public int timeEmbedDim() {
        return modelChannels * 4;
    }

    /** Heads of a transformer on {@code channels} channels. */
    int heads(int channels) {
        return numHeadChannels > 0 ? channels / numHeadChannels : numHeads;
    }

    /** Width of one head of a transformer on {@code channels} channels. */
    int headDim(int channels) {
        if (numHeadChannels > 0 && !(legacy && numHeads > 0)) {
            return numHeadChannels;
        }
        return channels / numHeads;
    }

    boolean hasAttention(int ds) {
        return Arrays.stream(attentionResolutions).anyMatch(r -> r == ds);
    }

    boolean selfAttentionDisabled(int level) {
        return disableSelfAttentions != null && level < disableSelfAttentions.length && disableSelfAttentions[level];
    }

    @Override
    public String toString() {
        return "UNetConfig[in=" + inChannels + ", out=" + outChannels + ", model_channels=" + modelChannels
                + ", channel_mult=" + Arrays.toString(channelMult) + ", num_res_blocks=" + numResBlocks
                + ", attention_resolutions=" + Arrays.toString(attentionResolutions)
                + (numHeadChannels > 0 ? ", num_head_channels=" + numHeadChannels : ", num_heads=" + numHeads)
                + ", transformer_depth=" + transformerDepthYaml() + ", context_dim=" + contextDim
                + ", linear_transformer=" + useLinearInTransformer
                + (numClasses > 0 ? ", num_classes=" + numClasses : "")
                + (admInChannels > 0 ? ", adm_in_channels=" + admInChannels : "") + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UNetConfig c && toString().equals(c.toString())
                && Arrays.equals(disableSelfAttentions, c.disableSelfAttentions) && legacy == c.legacy;
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }
}
