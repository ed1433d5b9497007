package dev.ldm4j.model;

import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.ParameterSource;
import dev.ldm4j.nn.Weights;
import dev.ldm4j.text.ClipTokenizer;
import dev.ldm4j.text.OpenClipLayer;
import dev.ldm4j.text.OpenClipTextConfig;
import dev.ldm4j.text.OpenClipTextModel;
import dev.ldm4j.text.TextEncoder;
import dev.ldm4j.text.TextualInversion;
import dev.ldm4j.unet.UNetConfig;
import dev.ldm4j.vae.VaeConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * SD 2.x ({@code v2-inference(-v).yaml}): open_clip's text tower under {@code cond_stage_model.model.},
 * conditioning on its penultimate layer; 64 channels per head. {@code text_projection} and {@code logit_scale}
 * belong to the pooled image-text embedding, which SD 2.x does not use.
 */
final class Sd2Architecture extends CompVisArchitecture {
    private static final String OPENCLIP = COND_STAGE + "model.";

    @Override
    public String name() {
        return "sd2";
    }

    @Override
    public String label() {
        return "SD 2.x";
    }

    @Override
    public String textPrefix() {
        return OPENCLIP;
    }

    @Override
    public String defaultTextLayer() {
        return "penultimate";
    }

    @Override
    public ClipTokenizer.Style tokenStyle() {
        return ClipTokenizer.Style.SD2;
    }

    @Override
    int numHeads() {
        return -1;
    }

    @Override
    int numHeadChannels() {
        return 64;
    }

    @Override
    public boolean recognises(SafetensorsFile f) {
        return f.has(OPENCLIP + "token_embedding.weight");
    }

    @Override
    public boolean readsCondStage(String target) {
        return target.endsWith("FrozenOpenCLIPEmbedder");
    }

    @Override
    public ModelConfig reference() {
        return new ModelConfig(this, false, UNetConfig.sd2(), defaultTextLayer(), Map.of(), VaeConfig.sd(),
                0.00085, 0.012, 1000);
    }

    @Override
    public TextEncoder textEncoder(ParameterSource src, ModelConfig c, SafetensorsFile shapes) {
        OpenClipTextConfig tc;
        OpenClipLayer layer;
        try {
            tc = !c.textModelConfig().isEmpty() || shapes == null
                    ? OpenClipTextConfig.fromMap(c.textModelConfig()) : OpenClipTextConfig.detect(shapes, OPENCLIP);
            layer = OpenClipLayer.parse(c.textLayer());
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException("cond_stage_config: " + e.getMessage());
        }
        return new OpenClipTextModel(Weights.of(src, OPENCLIP), tc, layer);
    }

    @Override
    public Map<String, String> tokenEmbeddings(ModelConfig c) {
        return Map.of(TextualInversion.ONE_TOWER, OPENCLIP + "token_embedding.weight");
    }

    @Override
    public Map<String, Object> condStageConfig(ModelConfig c, Map<String, Object> textModelConfig) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("target", "ldm.modules.encoders.modules.FrozenOpenCLIPEmbedder");
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("freeze", true);
        p.put("layer", c.textLayer());
        m.put("params", p);
        m.put("text_model_config", new LinkedHashMap<>(textModelConfig));
        return m;
    }

    @Override
    public boolean expectedUnused(String key) {
        return super.expectedUnused(key)
                || key.startsWith(OPENCLIP) && (key.endsWith("text_projection") || key.endsWith("logit_scale"));
    }
}
