package dev.ldm4j.model;

import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.ParameterSource;
import dev.ldm4j.nn.Weights;
import dev.ldm4j.text.ClipTextConfig;
import dev.ldm4j.text.ClipTextModel;
import dev.ldm4j.text.ClipTokenizer;
import dev.ldm4j.text.TextEncoder;
import dev.ldm4j.text.TextualInversion;
import dev.ldm4j.unet.UNetConfig;
import dev.ldm4j.vae.VaeConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * SD 1.x ({@code v1-inference.yaml}): a Hugging Face {@code CLIPTextModel} under
 * {@code cond_stage_model.transformer.text_model.}, conditioning on its last layer; 8 heads per transformer.
 */
final class Sd1Architecture extends CompVisArchitecture {
    private static final String CLIP = COND_STAGE + "transformer.text_model.";

    @Override
    public String name() {
        return "sd1";
    }

    @Override
    public String label() {
        return "SD 1.x";
    }

    @Override
    public String textPrefix() {
        return CLIP;
    }

    @Override
    public String defaultTextLayer() {
        return "last";
    }

    @Override
    public ClipTokenizer.Style tokenStyle() {
        return ClipTokenizer.Style.SD1;
    }

    @Override
    int numHeads() {
        return 8;
    }

    @Override
    int numHeadChannels() {
        return -1;
    }

    @Override
    public boolean recognises(SafetensorsFile f) {
        return f.has(CLIP + "embeddings.token_embedding.weight");
    }

    @Override
    public boolean readsCondStage(String target) {
        return target.endsWith("FrozenCLIPEmbedder");
    }

    @Override
    public ModelConfig reference() {
        return new ModelConfig(this, false, UNetConfig.sd1(), defaultTextLayer(), Map.of(), VaeConfig.sd(),
                0.00085, 0.012, 1000);
    }

    @Override
    public TextEncoder textEncoder(ParameterSource src, ModelConfig c, SafetensorsFile shapes) {
        ClipTextConfig tc;
        try {
            tc = !c.textModelConfig().isEmpty() || shapes == null
                    ? ClipTextConfig.fromMap(c.textModelConfig()) : ClipTextConfig.detect(shapes, CLIP);
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException("text_model_config: " + e.getMessage());
        }
        return new ClipTextModel(Weights.of(src, CLIP), tc);
    }

    @Override
    public Map<String, String> tokenEmbeddings(ModelConfig c) {
        return Map.of(TextualInversion.ONE_TOWER, CLIP + "embeddings.token_embedding.weight");
    }

    @Override
    public Map<String, Object> condStageConfig(ModelConfig c, Map<String, Object> textModelConfig) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("target", "ldm.modules.encoders.modules.FrozenCLIPEmbedder");
        m.put("params", new LinkedHashMap<>(Map.of("max_length", 77)));
        m.put("text_model_config", new LinkedHashMap<>(textModelConfig));
        return m;
    }
}
