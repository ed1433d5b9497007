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
 * @param numClasses size of the class-label embedding added to the time embedding, 0 for none
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
        int transformerDepth,
        int contextDim,
        boolean useLinearInTransformer,
        boolean legacy,
        boolean[] disableSelfAttentions,
        int numClasses) {

    public UNetConfig {
        if (numHeads <= 0 && numHeadChannels <= 0) {
            throw new IllegalArgumentException("UNet config needs num_heads or num_head_channels");
        }
        if (channelMult.length == 0 || numResBlocks < 1 || modelChannels < 1) {
            throw new IllegalArgumentException("UNet config: bad channel_mult/num_res_blocks/model_channels");
        }
    }

    /** The UNet of SD 1.x ({@code v1-inference.yaml}). */
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
                + ", transformer_depth=" + transformerDepth + ", context_dim=" + contextDim
                + ", linear_transformer=" + useLinearInTransformer
                + (numClasses > 0 ? ", num_classes=" + numClasses : "") + "]";
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
