package dev.ldm4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.model.MemoryPlan;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.Precision;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The memory plan of an x4 upscale plans what {@link Upscale} runs: the UNet one latent tile at a time (the latent
 * has the input's size), the decode at the output's size, 4x the input's each way, tiled as the upscale tiles it.
 * The plan used to be that of a text-to-image run of one tile's 4x size, whose decode is neither.
 */
class UpscaleMemoryPlanTest {
    private static final String FOLDER = "sd-x4-upscaler-tiny";

    private static MemoryPlan plan(int w, int h) {
        Path model = Fixtures.path(FOLDER + "/model.safetensors");
        InitImage init = InitImage.of(new RgbImage(w, h, new byte[w * h * 3]), 1.0).withNoiseLevel(20);
        GenerationRequest r = new GenerationRequest("a photo", "", w, h, 20, 9, "euler", "discrete", 0, 1, 1, 0, init);
        return Generator.memoryPlan(new ModelLoader.Options(model, Fixtures.path(FOLDER + "/config.yaml"), null, null,
                Precision.BF16, Precision.FP32), r, new Generator.Options(null), -1);
    }

    /** What a text-to-image run of this output size plans, its UNet over a latent of at most one tile. */
    private static MemoryPlan expected(int outW, int outH, int tile) {
        ModelConfig c = ModelConfig.fromYaml(Fixtures.path(FOLDER + "/config.yaml"));
        try (SafetensorsFile f = Fixtures.open(FOLDER + "/model.safetensors")) {
            return MemoryPlan.estimate(f, c, Precision.BF16, Precision.FP32, null, outW, outH, 1, true, tile);
        }
    }

    @Test
    void theUnetStageIsOneTileAndTheDecodeIsAtTheOutputSize() {
        MemoryPlan small = plan(32, 32);
        assertEquals(expected(128, 128, 0), small, "below one tile: the whole latent, a 128 x 128 decode");

        MemoryPlan mid = plan(256, 256);
        MemoryPlan oneTile = expected(4 * Upscale.TILE, 4 * Upscale.TILE, 0);
        assertEquals(oneTile.unetBytes(), mid.unetBytes(), "a 256 x 256 latent runs in 128 x 128 tiles");
        assertFalse(mid.vaeTiled(), "a 1024 x 1024 output is decoded whole, as Upscale decodes it");
        assertEquals(expected(1024, 1024, 0).vaeBytes(), mid.vaeBytes(), "the decode of the 1024 x 1024 output");
        assertTrue(mid.vaeBytes() > oneTile.vaeBytes(), "larger than the one-tile plan's decode");

        MemoryPlan large = plan(400, 300);
        assertEquals(oneTile.unetBytes(), large.unetBytes(), "the UNet stage does not grow with the tile count");
        assertTrue(large.vaeTiled(), "a 1600 x 1200 output is decoded in tiles, as Upscale decodes it");
        assertEquals(expected(1600, 1200, Upscale.TILE), large);
    }
}
