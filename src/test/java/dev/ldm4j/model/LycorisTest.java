package dev.ldm4j.model;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.ParameterSource;
import dev.ldm4j.nn.Tensors;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * LyCORIS files (LoCon with a CP middle, LoHa plain and CP, LoKr with full, low-rank and CP factors, full
 * differences) merged into sd1-tiny at multiplier 0.7, against ComfyUI's own calculate_weight on the same files
 * (scripts/reference/comfy_lycoris.py writes both).
 */
class LycorisTest {
    private static Path resource(String name) {
        try {
            return Path.of(LycorisTest.class.getResource("lycoris/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"locon", "loha", "lokr", "diff"})
    void mergesAsComfyUi(String format) {
        ModelConfig c = ModelConfig.fromYaml(Fixtures.path("sd1-tiny/config.yaml"));
        LoraFile file = LoraFile.read(resource("lycoris_" + format + ".safetensors"), format);
        LoraPatch patch = new LoraPatch(List.of(new LoraPatch.Applied(file, 0.7, 0.7)));
        try (SafetensorsFile base = Fixtures.open("sd1-tiny/model.safetensors");
             SafetensorsFile merged = SafetensorsFile.open(resource("lycoris_" + format + "_merged.safetensors"));
             PointerScope scope = new PointerScope(); InferenceMode g = new InferenceMode()) {
            ParameterSource src = patch.apply(new CheckpointSource(base), c);
            for (String key : merged.keys()) {
                Tensor expected = Tensors.read(merged, key);
                assertClose(expected, src.get(key, base.info(key).shape()), 2e-5 * Math.max(1, expected.abs().max()
                        .item_float()), format + " " + key);
            }
            assertEquals(List.of(), patch.unmatched());
        }
    }
}
