package dev.ldm4j.text;

import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sizes of a Hugging Face {@code CLIPTextModel} (the SD 1.x text encoder), named after {@code CLIPTextConfig}.
 *
 * @param vocabSize rows of {@code embeddings.token_embedding}
 * @param maxPositionEmbeddings rows of {@code embeddings.position_embedding} (77)
 * @param hiddenSize model width, also the context width the UNet sees
 * @param numHiddenLayers encoder layers
 * @param numAttentionHeads heads per attention; {@code hiddenSize} must divide evenly
 * @param intermediateSize width of the MLP's hidden layer
 * @param hiddenAct the MLP nonlinearity
 * @param layerNormEps eps of every LayerNorm
 */
public record ClipTextConfig(int vocabSize, int maxPositionEmbeddings, int hiddenSize, int numHiddenLayers,
                             int numAttentionHeads, int intermediateSize, Activation hiddenAct,
                             double layerNormEps) {
    private static final Logger LOG = LoggerFactory.getLogger(ClipTextConfig.class);

    /** OpenAI CLIP ViT-L/14's text tower, which every SD 1.x checkpoint uses. */
    public static final ClipTextConfig VIT_L_14 =
            new ClipTextConfig(49408, 77, 768, 12, 12, 3072, Activation.QUICK_GELU, 1e-5);

    public ClipTextConfig {
        if (vocabSize <= 0 || maxPositionEmbeddings <= 0 || hiddenSize <= 0 || numHiddenLayers <= 0
                || numAttentionHeads <= 0 || intermediateSize <= 0 || !(layerNormEps > 0)) {
            throw new IllegalArgumentException("CLIP text config sizes must be positive: " + describe(
                    vocabSize, maxPositionEmbeddings, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize));
        }
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("CLIP text config: hidden_size " + hiddenSize
                    + " is not divisible by num_attention_heads " + numAttentionHeads);
        }
        if (hiddenAct == null) {
            throw new IllegalArgumentException("CLIP text config: hidden_act missing");
        }
    }

    /**
     * From a {@code text_model_config} map in Hugging Face {@code CLIPTextConfig} names. A key the map leaves
     * out takes its {@link #VIT_L_14} value, because an LDM YAML implies that model; unknown keys are ignored.
     */
    public static ClipTextConfig fromMap(Map<String, ?> map) {
        ClipTextConfig d = VIT_L_14;
        return new ClipTextConfig(
                ConfigValues.intValue(map, "vocab_size", d.vocabSize),
                ConfigValues.intValue(map, "max_position_embeddings", d.maxPositionEmbeddings),
                ConfigValues.intValue(map, "hidden_size", d.hiddenSize),
                ConfigValues.intValue(map, "num_hidden_layers", d.numHiddenLayers),
                ConfigValues.intValue(map, "num_attention_heads", d.numAttentionHeads),
                ConfigValues.intValue(map, "intermediate_size", d.intermediateSize),
                Activation.parse(ConfigValues.stringValue(map, "hidden_act", d.hiddenAct.configName())),
                ConfigValues.doubleValue(map, "layer_norm_eps", d.layerNormEps));
    }

    /** This config in the names {@link #fromMap} reads (an LDM YAML's {@code text_model_config}). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("vocab_size", vocabSize);
        m.put("max_position_embeddings", maxPositionEmbeddings);
        m.put("hidden_size", hiddenSize);
        m.put("num_hidden_layers", numHiddenLayers);
        m.put("num_attention_heads", numAttentionHeads);
        m.put("intermediate_size", intermediateSize);
        m.put("hidden_act", hiddenAct.configName());
        m.put("layer_norm_eps", layerNormEps);
        m.put("architecture", "transformers.CLIPTextModel");
        return m;
    }

    /**
     * Reads the sizes from the tensor shapes below {@code prefix} (e.g.
     * {@code cond_stage_model.transformer.text_model.}); heads are width / 64 as in every released model,
     * the activation and eps are those of {@link #VIT_L_14}.
     *
     * @throws ModelFileException when a key is missing or the width is not a multiple of 64
     */
    public static ClipTextConfig detect(SafetensorsFile file, String prefix) {
        return detect(Shapes.of(file), prefix, 0);
    }

    /** As {@link #detect(SafetensorsFile, String)} with a known head count (shapes do not show it). */
    public static ClipTextConfig detect(SafetensorsFile file, String prefix, int heads) {
        if (heads <= 0) {
            throw new IllegalArgumentException("heads must be positive, got " + heads);
        }
        return detect(Shapes.of(file), prefix, heads);
    }

    /** {@code heads} 0 means: infer from the width. */
    static ClipTextConfig detect(Shapes shapes, String prefix, int heads) {
        String p = Shapes.prefix(prefix);
        long[] tok = shapes.require(p + "embeddings.token_embedding.weight", 2);
        long[] pos = shapes.require(p + "embeddings.position_embedding.weight", 2);
        int layers = shapes.countBlocks(p + "encoder.layers.", "layer_norm1.weight");
        if (layers == 0) {
            throw new ModelFileException(shapes.where() + ": no CLIP encoder layers under '" + p + "encoder.layers.'");
        }
        long[] fc1 = shapes.require(p + "encoder.layers.0.mlp.fc1.weight", 2);
        long width = tok[1];
        ClipTextConfig c = new ClipTextConfig(Math.toIntExact(tok[0]), Math.toIntExact(pos[0]),
                Math.toIntExact(width), layers, heads > 0 ? heads : shapes.headsFor(width),
                Math.toIntExact(fc1[0]), VIT_L_14.hiddenAct, VIT_L_14.layerNormEps);
        LOG.debug("{}: detected CLIP text encoder {}", shapes.where(), c);
        return c;
    }

    private static String describe(int vocab, int positions, int hidden, int layers, int heads, int intermediate) {
        return "vocab_size " + vocab + ", max_position_embeddings " + positions + ", hidden_size " + hidden
                + ", num_hidden_layers " + layers + ", num_attention_heads " + heads + ", intermediate_size "
                + intermediate;
    }
}
