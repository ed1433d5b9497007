package dev.ldm4j.text;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.SafetensorsFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Map;
import org.yaml.snakeyaml.Yaml;

/** The text-encoder parts of the fixture folders' config.yaml and checkpoints. */
final class TextFixtures {
    static final String SD1_PREFIX = "cond_stage_model.transformer.text_model.";
    static final String OPEN_CLIP_PREFIX = "cond_stage_model.model.";

    private TextFixtures() {}

    /** {@code model.params.cond_stage_config} of {@code folder/config.yaml}. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> condStageConfig(String folder) {
        try (InputStream in = Files.newInputStream(Fixtures.path(folder + "/config.yaml"))) {
            Map<String, Object> root = new Yaml().load(in);
            Map<String, Object> model = (Map<String, Object>) root.get("model");
            Map<String, Object> params = (Map<String, Object>) model.get("params");
            return (Map<String, Object>) params.get("cond_stage_config");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> textModelConfig(String folder) {
        return (Map<String, Object>) condStageConfig(folder).get("text_model_config");
    }

    static SafetensorsFile checkpoint(String folder) {
        return Fixtures.open(folder + "/model.safetensors");
    }
}
