package dev.ldm4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.sampling.StepListener;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's Java example, on the tiny fixture model (which needs its YAML: its head count is not standard). */
class JavaApiExampleTest {
    @Test
    void readmeExampleRunsAsWritten(@TempDir Path dir) {
        LatentDiffusionModel sd = ModelLoader.load(new ModelLoader.Options(
                Fixtures.path("sd1-tiny/model.safetensors"), Fixtures.path("sd1-tiny/config.yaml"), null, null));
        GenerationRequest request = GenerationRequest.of("a red apple on a wooden table").withSize(64, 48).withSeed(7)
                .withSampling("euler_a", "discrete", 3, 7.0);
        Path out = dir.resolve("apple.png");
        try (GenerationResult result = new Generator(sd).generate(request, StepListener.NONE)) {
            RgbImage image = ImageTensors.toRgb8(result.images()).get(0);
            Images.writePng(out, image, Map.of(Images.PARAMETERS, Parameters.a1111(request, sd.name())));
        }
        RgbImage back = Images.readRgb(out);
        assertEquals(64, back.width());
        assertEquals(48, back.height());
        assertTrue(Images.readText(out).get("parameters").contains("Seed: 7, Size: 64x48"));
    }
}
