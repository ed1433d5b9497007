package dev.ldm4j.text;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.nn.Embedding;
import dev.ldm4j.nn.LayerNorm;
import dev.ldm4j.nn.Weights;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * The SD 2.x text encoder: open_clip's text tower read from the keys below {@code cond_stage_model.model.}.
 * Causal pre-LayerNorm transformer over token plus positional embeddings; the conditioning is one resblock's
 * output (by default the penultimate, as SD 2.x uses) passed through {@code ln_final}.
 *
 * <p>Every resblock is loaded, also the last one that SD 2.x never runs, so one loaded model serves both
 * layer choices. {@code text_projection} and {@code logit_scale} belong to the pooled image-text embedding
 * and are not read.
 */
public final class OpenClipTextModel implements TextEncoder {
    private final OpenClipTextConfig config;
    private final Embedding tokenEmbedding;
    private final Tensor positionalEmbedding;
    private final List<ResidualAttentionBlock> resblocks;
    private final LayerNorm lnFinal;
    private final OpenClipLayer layer;
    private final Tensor textProjection;

    /** With the penultimate layer, as SD 2.x. */
    public OpenClipTextModel(Weights w, OpenClipTextConfig config) {
        this(w, config, OpenClipLayer.PENULTIMATE);
    }

    public OpenClipTextModel(Weights w, OpenClipTextConfig config, OpenClipLayer layer) {
        this(w, config, layer, false);
    }

    /**
     * @param pooled whether to read {@code text_projection} [width, embed_dim] for {@link #pooled} (SDXL's
     *     vector conditioning; SD 2.x does not use it)
     */
    public OpenClipTextModel(Weights w, OpenClipTextConfig config, OpenClipLayer layer, boolean pooled) {
        this.config = config;
        this.layer = checkLayer(layer, config);
        this.tokenEmbedding = new Embedding(w.sub("token_embedding"), config.vocabSize(), config.width());
        this.positionalEmbedding = w.get("positional_embedding", config.contextLength(), config.width());
        Weights blocks = w.sub("transformer").sub("resblocks");
        List<ResidualAttentionBlock> list = new ArrayList<>(config.layers());
        for (int i = 0; i < config.layers(); i++) {
            list.add(new ResidualAttentionBlock(blocks.sub(i), config));
        }
        this.resblocks = List.copyOf(list);
        this.lnFinal = new LayerNorm(w.sub("ln_final"), config.width(), ResidualAttentionBlock.LN_EPS);
        this.textProjection = pooled ? w.get("text_projection", config.width(), config.embedDim()) : null;
    }

    public OpenClipTextConfig config() {
        return config;
    }

    public OpenClipLayer layer() {
        return layer;
    }

    @Override
    public java.util.Map<String, Object> textModelConfig() {
        return config.toMap();
    }

    @Override
    public int contextDim() {
        return config.width();
    }

    @Override
    public int maxLength() {
        return config.contextLength();
    }

    /** Conditioning [B, N, width] from the layer given at construction. */
    @Override
    public Tensor encode(Tensor inputIds) {
        return encode(inputIds, layer);
    }

    /** Conditioning [B, N, width] from {@code layer}; resblocks after it are not run. */
    public Tensor encode(Tensor inputIds, OpenClipLayer layer) {
        checkLayer(layer, config);
        return run(inputIds, layer.skipped());
    }

    /** Conditioning [B, N, width] from resblock {@code layerFromEnd} counted from the end (1 = the last). */
    @Override
    public Tensor encode(Tensor inputIds, int layerFromEnd) {
        if (layerFromEnd < 1 || layerFromEnd > config.layers()) {
            throw new BadRequestException("clip skip must be in 1.." + config.layers() + ", got " + layerFromEnd);
        }
        return run(inputIds, layerFromEnd - 1);
    }

    private Tensor run(Tensor inputIds, int skipped) {
        return lnFinal.forward(hidden(TokenIds.check(inputIds, maxLength()), skipped));
    }

    /** The output of all resblocks but the last {@code skipped}, before {@code ln_final}. */
    private Tensor hidden(Tensor ids, int skipped) {
        Tensor x = tokenEmbedding.forward(ids).add(positionalEmbedding.narrow(0, 0, ids.size(1)));
        int run = config.layers() - skipped;
        for (int i = 0; i < run; i++) {
            x = resblocks.get(i).forward(x);
        }
        return x;
    }

    /**
     * SDXL's context: the output of all resblocks but the last, WITHOUT {@code ln_final} (sgm
     * FrozenOpenCLIPEmbedder2 with legacy=False) [B, N, width].
     */
    public Tensor penultimateUnnormed(Tensor inputIds) {
        return hidden(TokenIds.check(inputIds, maxLength()), 1);
    }

    /**
     * The pooled text embedding [B, embed_dim]: {@code ln_final} of the last resblock's output at each row's
     * end-of-text token (its largest id), times {@code text_projection}.
     */
    public Tensor pooled(Tensor inputIds) {
        if (textProjection == null) {
            throw new IllegalStateException("this text tower was built without its text_projection");
        }
        Tensor ids = TokenIds.check(inputIds, maxLength());
        Tensor last = lnFinal.forward(hidden(ids, 0));
        return ClipTextModel.pooled(last, ids).matmul(textProjection);
    }

    private static OpenClipLayer checkLayer(OpenClipLayer layer, OpenClipTextConfig config) {
        if (layer == null) {
            throw new IllegalArgumentException("OpenCLIP layer missing");
        }
        if (layer.skipped() >= config.layers()) {
            throw new IllegalArgumentException("OpenCLIP layer " + layer + " needs more than " + config.layers()
                    + " resblocks");
        }
        return layer;
    }
}
