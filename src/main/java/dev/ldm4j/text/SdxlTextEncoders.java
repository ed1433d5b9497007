package dev.ldm4j.text;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.nn.Ops;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * SDXL's two text towers as one encoder (sgm GeneralConditioner's "txt" embedders): CLIP ViT-L's
 * {@code hidden_states[layerIdx]} without its final LayerNorm, concatenated with OpenCLIP ViT-bigG's
 * penultimate resblock output without {@code ln_final}: context [B, N, 768 + 1280]. The pooled vector is
 * OpenCLIP's alone.
 *
 * <p>The refiner has the OpenCLIP tower alone ({@link #refiner}): context [B, N, 1280].
 *
 * <p>Both towers read the same BPE tokens and differ only in padding: CLIPTokenizer pads with end-of-text
 * (49407), open_clip.tokenize with 0. Ids come in the CLIP convention; the OpenCLIP ids are derived by
 * zeroing every position after the first end-of-text, so prompt chunking and weighting stay in step across
 * both towers.
 */
public final class SdxlTextEncoders implements TextEncoder {
    private final ClipTextModel clip;
    private final int clipLayerIdx;
    private final OpenClipTextModel openClip;

    /**
     * @param clipLayerIdx which hidden state of the CLIP tower ({@code layer_idx} of sgm's FrozenCLIPEmbedder;
     *     11 of 12 in SDXL base)
     * @param openClip     built with its {@code text_projection}
     */
    public SdxlTextEncoders(ClipTextModel clip, int clipLayerIdx, OpenClipTextModel openClip) {
        if (clip != null && (clipLayerIdx < 1 || clipLayerIdx > clip.config().numHiddenLayers())) {
            throw new IllegalArgumentException("layer_idx " + clipLayerIdx + " of a " + clip.config().numHiddenLayers()
                    + "-layer CLIP text encoder");
        }
        this.clip = clip;
        this.clipLayerIdx = clipLayerIdx;
        this.openClip = openClip;
    }

    /** The SDXL refiner's text: OpenCLIP's penultimate output and pooled vector, no CLIP tower. */
    public static SdxlTextEncoders refiner(OpenClipTextModel openClip) {
        return new SdxlTextEncoders(null, -1, openClip);
    }

    public boolean hasClip() {
        return clip != null;
    }

    /** OpenCLIP's ids for CLIP-convention ids [B, N]: 0 after each row's first end-of-text. */
    static Tensor openClipIds(Tensor clipIds) {
        Tensor eos = clipIds.eq(new Scalar(ClipTokenizer.END_OF_TEXT)).to(torch.ScalarType.Long);
        // positions strictly after the first EOS: the running count of EOS before them is at least 1
        Tensor after = eos.cumsum(1).sub(eos).gt(new Scalar(0));
        return clipIds.masked_fill(after, new Scalar(0));
    }

    @Override
    public Tensor encode(Tensor inputIds) {
        Tensor open = openClip.penultimateUnnormed(openClipIds(inputIds));
        return clip == null ? open : Ops.cat(-1, clip.hiddenState(inputIds, clipLayerIdx), open);
    }

    /** SDXL fixes its layers: clip skip 1 (the last layer of each, as the model uses) is the default. */
    @Override
    public Tensor encode(Tensor inputIds, int layerFromEnd) {
        if (layerFromEnd != 1) {
            throw new BadRequestException("clip skip " + layerFromEnd + " is not supported for SDXL models (their "
                    + "text layers are fixed by the model)");
        }
        return encode(inputIds);
    }

    /** The pooled text embedding [B, embed_dim] of OpenCLIP (CLIP-convention ids). */
    public Tensor pooled(Tensor inputIds) {
        return openClip.pooled(openClipIds(inputIds));
    }

    public int pooledDim() {
        return openClip.config().embedDim();
    }

    @Override
    public Map<String, Object> textModelConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (clip != null) {
            m.put("clip", clip.textModelConfig());
            m.put("clip_layer_idx", clipLayerIdx);
        }
        m.put("openclip", openClip.textModelConfig());
        return m;
    }

    @Override
    public int contextDim() {
        return (clip == null ? 0 : clip.contextDim()) + openClip.contextDim();
    }

    @Override
    public int maxLength() {
        return clip == null ? openClip.maxLength() : Math.min(clip.maxLength(), openClip.maxLength());
    }
}
