package dev.ldm4j.text;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.nn.LayerNorm;
import dev.ldm4j.nn.Weights;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * The SD 1.x text encoder: a Hugging Face {@code CLIPTextModel} read from the keys below
 * {@code cond_stage_model.transformer.text_model.}. Causal pre-LayerNorm transformer over token plus position
 * embeddings, then {@code final_layer_norm}.
 *
 * <p>CLIP skip k (AUTOMATIC1111's meaning) takes the output of the k-th layer from the end, before
 * {@code final_layer_norm}, and applies {@code final_layer_norm} to it; k = 1 is the normal conditioning.
 */
public final class ClipTextModel implements TextEncoder {
    private final ClipTextConfig config;
    private final ClipTextEmbeddings embeddings;
    private final List<ClipEncoderLayer> encoderLayers;
    private final LayerNorm finalLayerNorm;
    private final int clipSkip;

    /** With CLIP skip 1 (the last layer). */
    public ClipTextModel(Weights w, ClipTextConfig config) {
        this(w, config, 1);
    }

    /** @param clipSkip 1 .. numHiddenLayers; 2 = the penultimate layer */
    public ClipTextModel(Weights w, ClipTextConfig config, int clipSkip) {
        this.config = config;
        this.clipSkip = checkClipSkip(clipSkip, config);
        this.embeddings = new ClipTextEmbeddings(w.sub("embeddings"), config);
        Weights layers = w.sub("encoder").sub("layers");
        List<ClipEncoderLayer> list = new ArrayList<>(config.numHiddenLayers());
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            list.add(new ClipEncoderLayer(layers.sub(i), config));
        }
        this.encoderLayers = List.copyOf(list);
        this.finalLayerNorm = new LayerNorm(w.sub("final_layer_norm"), config.hiddenSize(), config.layerNormEps());
    }

    public ClipTextConfig config() {
        return config;
    }

    public int clipSkip() {
        return clipSkip;
    }

    @Override
    public java.util.Map<String, Object> textModelConfig() {
        return config.toMap();
    }

    @Override
    public int contextDim() {
        return config.hiddenSize();
    }

    @Override
    public int maxLength() {
        return config.maxPositionEmbeddings();
    }

    /** Conditioning [B, N, hidden] with the CLIP skip given at construction. */
    @Override
    public Tensor encode(Tensor inputIds) {
        return encode(inputIds, clipSkip);
    }

    /** Conditioning [B, N, hidden] with CLIP skip {@code clipSkip}; layers after the chosen one are not run. */
    @Override
    public Tensor encode(Tensor inputIds, int clipSkip) {
        checkClipSkip(clipSkip, config);
        Tensor x = embeddings.forward(TokenIds.check(inputIds, maxLength()));
        int run = config.numHiddenLayers() - clipSkip + 1;
        for (int i = 0; i < run; i++) {
            x = encoderLayers.get(i).forward(x);
        }
        return finalLayerNorm.forward(x);
    }

    /**
     * {@code hidden_states[layers]}: the output of the first {@code layers} encoder layers, WITHOUT
     * {@code final_layer_norm} [B, N, hidden] (sgm FrozenCLIPEmbedder with layer="hidden": SDXL's first text
     * encoder, layer_idx 11 of 12).
     */
    public Tensor hiddenState(Tensor inputIds, int layers) {
        if (layers < 0 || layers > config.numHiddenLayers()) {
            throw new IllegalArgumentException("hidden state " + layers + " of a " + config.numHiddenLayers()
                    + "-layer encoder");
        }
        Tensor x = embeddings.forward(TokenIds.check(inputIds, maxLength()));
        for (int i = 0; i < layers; i++) {
            x = encoderLayers.get(i).forward(x);
        }
        return x;
    }

    /** The full pass: every hidden state, the normed last one and the pooled vector. */
    public ClipTextOutput forward(Tensor inputIds) {
        Tensor ids = TokenIds.check(inputIds, maxLength());
        List<Tensor> hidden = new ArrayList<>(config.numHiddenLayers() + 1);
        Tensor x = embeddings.forward(ids);
        hidden.add(x);
        for (ClipEncoderLayer layer : encoderLayers) {
            x = layer.forward(x);
            hidden.add(x);
        }
        Tensor last = finalLayerNorm.forward(x);
        return new ClipTextOutput(last, hidden, pooled(last, ids));
    }

    /** {@code finalLayerNorm} as a function, for callers that pick a hidden state themselves. */
    public Tensor finalLayerNorm(Tensor hiddenState) {
        return finalLayerNorm.forward(hiddenState);
    }

    /**
     * The row of {@code states} [B, N, C] at each batch element's largest token id, [B, C]. End-of-text has
     * the largest id in CLIP's vocabulary and argmax returns the first maximum, so this is the first EOS
     * even when padding repeats it. Ids past the vocabulary (textual-inversion vectors) are not candidates.
     */
    static Tensor pooled(Tensor states, Tensor ids) {
        long b = states.size(0);
        long c = states.size(2);
        Tensor vocabIds = ids.masked_fill(ids.gt(new Scalar(ClipTokenizer.END_OF_TEXT)), new Scalar(0));
        Tensor index = vocabIds.argmax(new LongOptional(1), false).view(b, 1, 1).expand(b, 1, c);
        return states.gather(1, index).view(b, c);
    }

    private static int checkClipSkip(int clipSkip, ClipTextConfig config) {
        if (clipSkip < 1 || clipSkip > config.numHiddenLayers()) {
            throw new BadRequestException("clip skip must be in 1.." + config.numHiddenLayers() + ", got "
                    + clipSkip);
        }
        return clipSkip;
    }
}
