package dev.ldm4j.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TextEncoderConfigTest {
    @Test
    void sd1YamlGivesTheTinyClipConfig() {
        ClipTextConfig c = ClipTextConfig.fromMap(TextFixtures.textModelConfig("sd1-tiny"));
        assertEquals(new ClipTextConfig(49408, 77, 32, 2, 2, 64, Activation.QUICK_GELU, 1e-5), c);
    }

    @Test
    void sd2YamlGivesTheTinyOpenClipConfig() {
        OpenClipTextConfig c = OpenClipTextConfig.fromMap(TextFixtures.textModelConfig("sd2-tiny"));
        assertEquals(new OpenClipTextConfig(77, 49408, 32, 2, 2, 4.0, 32, Activation.GELU), c);
        assertEquals(128, c.mlpWidth());
    }

    @Test
    void sd1DetectionFromShapesMatchesYaml() {
        ClipTextConfig yaml = ClipTextConfig.fromMap(TextFixtures.textModelConfig("sd1-tiny"));
        try (SafetensorsFile file = TextFixtures.checkpoint("sd1-tiny")) {
            // a width-32 model has no 64-wide heads: the head count must be given, and refusing beats guessing
            ModelFileException e = assertThrows(ModelFileException.class,
                    () -> ClipTextConfig.detect(file, TextFixtures.SD1_PREFIX));
            assertTrue(e.getMessage().contains("heads"), e.getMessage());
            assertEquals(yaml, ClipTextConfig.detect(file, TextFixtures.SD1_PREFIX, yaml.numAttentionHeads()));
        }
    }

    @Test
    void sd2DetectionFromShapesMatchesYaml() {
        OpenClipTextConfig yaml = OpenClipTextConfig.fromMap(TextFixtures.textModelConfig("sd2-tiny"));
        try (SafetensorsFile file = TextFixtures.checkpoint("sd2-tiny")) {
            assertThrows(ModelFileException.class, () -> OpenClipTextConfig.detect(file, TextFixtures.OPEN_CLIP_PREFIX));
            assertEquals(yaml, OpenClipTextConfig.detect(file, "cond_stage_model.model", yaml.heads()));
        }
    }

    @Test
    void detectionOnWrongPrefixNamesTheMissingKey() {
        try (SafetensorsFile file = TextFixtures.checkpoint("sd2-tiny")) {
            ModelFileException e = assertThrows(ModelFileException.class,
                    () -> ClipTextConfig.detect(file, TextFixtures.SD1_PREFIX, 2));
            assertTrue(e.getMessage().contains("embeddings.token_embedding.weight"), e.getMessage());
        }
    }

    @Test
    void fullSizeSd1ShapesDetectViTL14() {
        String p = TextFixtures.SD1_PREFIX;
        Map<String, long[]> shapes = new HashMap<>();
        shapes.put(p + "embeddings.token_embedding.weight", new long[] {49408, 768});
        shapes.put(p + "embeddings.position_embedding.weight", new long[] {77, 768});
        for (int i = 0; i < 12; i++) {
            shapes.put(p + "encoder.layers." + i + ".layer_norm1.weight", new long[] {768});
        }
        shapes.put(p + "encoder.layers.0.mlp.fc1.weight", new long[] {3072, 768});
        assertEquals(ClipTextConfig.VIT_L_14, ClipTextConfig.detect(new Shapes(shapes::get, "test"), p, 0));
    }

    @Test
    void fullSizeSd2ShapesDetectViTH14() {
        String p = TextFixtures.OPEN_CLIP_PREFIX;
        Map<String, long[]> shapes = new HashMap<>();
        shapes.put(p + "token_embedding.weight", new long[] {49408, 1024});
        shapes.put(p + "positional_embedding", new long[] {77, 1024});
        shapes.put(p + "text_projection", new long[] {1024, 1024});
        for (int i = 0; i < 24; i++) {
            shapes.put(p + "transformer.resblocks." + i + ".ln_1.weight", new long[] {1024});
        }
        shapes.put(p + "transformer.resblocks.0.mlp.c_fc.weight", new long[] {4096, 1024});
        assertEquals(OpenClipTextConfig.VIT_H_14, OpenClipTextConfig.detect(new Shapes(shapes::get, "test"), p, 0));
    }

    @Test
    void defaultsAreTheReleasedModels() {
        assertEquals(new ClipTextConfig(49408, 77, 768, 12, 12, 3072, Activation.QUICK_GELU, 1e-5),
                ClipTextConfig.VIT_L_14);
        assertEquals(new OpenClipTextConfig(77, 49408, 1024, 16, 24, 4.0, 1024, Activation.GELU),
                OpenClipTextConfig.VIT_H_14);
        assertEquals(ClipTextConfig.VIT_L_14, ClipTextConfig.fromMap(Map.of()));
        assertEquals(OpenClipTextConfig.VIT_H_14, OpenClipTextConfig.fromMap(Map.of()));
    }

    @Test
    void rejectsBadConfigs() {
        assertThrows(IllegalArgumentException.class, () -> ClipTextConfig.fromMap(Map.of("hidden_act", "relu")));
        assertThrows(IllegalArgumentException.class, () -> ClipTextConfig.fromMap(Map.of("hidden_size", "big")));
        assertThrows(IllegalArgumentException.class, () -> ClipTextConfig.fromMap(Map.of("num_attention_heads", 7)));
        assertThrows(IllegalArgumentException.class, () -> OpenClipTextConfig.fromMap(Map.of("ls_init_value", 0.1)));
        assertEquals(Activation.GELU, ClipTextConfig.fromMap(Map.of("hidden_act", "gelu")).hiddenAct());
    }
}
