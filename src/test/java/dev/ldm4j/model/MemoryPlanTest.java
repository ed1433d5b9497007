package dev.ldm4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.Precision;
import org.junit.jupiter.api.Test;

class MemoryPlanTest {
    @Test
    void weightsAreCountedExactlyAndStagesScaleWithTheRequest() {
        ModelConfig c = ModelConfig.fromYaml(Fixtures.path("sd1-tiny/config.yaml"));
        try (SafetensorsFile f = Fixtures.open("sd1-tiny/model.safetensors")) {
            long params = f.keys().stream().filter(k -> k.startsWith("model.diffusion_model.")
                    || k.startsWith("first_stage_model.") || k.startsWith("cond_stage_model."))
                    .mapToLong(k -> f.info(k).numel()).sum();
            MemoryPlan fp32 = MemoryPlan.estimate(f, c, Precision.FP32, Precision.FP32, false, 512, 512, 1, true);
            assertEquals(params * 4, fp32.weightBytes());
            MemoryPlan bf16 = MemoryPlan.estimate(f, c, Precision.BF16, Precision.BF16, false, 512, 512, 1, true);
            assertEquals(params * 2, bf16.weightBytes());
            assertEquals(fp32.unetBytes(), 2 * bf16.unetBytes());
            MemoryPlan big = MemoryPlan.estimate(f, c, Precision.FP32, Precision.FP32, false, 1024, 1024, 1, true);
            assertEquals(4 * fp32.unetBytes(), big.unetBytes(), 4);
            MemoryPlan unguided = MemoryPlan.estimate(f, c, Precision.FP32, Precision.FP32, false, 512, 512, 1, false);
            assertEquals(fp32.unetBytes(), 2 * unguided.unetBytes(), 2);
            MemoryPlan tiled = MemoryPlan.estimate(f, c, Precision.FP32, Precision.FP32, true, 4096, 4096, 1, true);
            MemoryPlan whole = MemoryPlan.estimate(f, c, Precision.FP32, Precision.FP32, false, 4096, 4096, 1, true);
            assertTrue(tiled.vaeBytes() * 10 < whole.vaeBytes());
            assertTrue(whole.advice().startsWith("--vae-tiling"));
            assertTrue(MemoryPlan.estimate(f, c, null, null, null, 4096, 4096, 1, true).vaeTiled(),
                    "tiling is automatic above 1024x1024");

            // 1024x1024 is not tiled by size; it is when only the whole decode does not fit
            MemoryPlan auto = MemoryPlan.estimate(f, c, Precision.FP32, Precision.FP32, null, 1024, 1024, 1, true);
            MemoryPlan autoTiled = MemoryPlan.estimate(f, c, Precision.FP32, Precision.FP32, true, 1024, 1024, 1, true);
            assertTrue(!auto.vaeTiled() && autoTiled.peakBytes() < auto.peakBytes());
            long between = (auto.peakBytes() + autoTiled.peakBytes()) / 2;
            assertTrue(MemoryPlan.fitting(f, c, Precision.FP32, Precision.FP32, null, 1024, 1024, 1, true, between)
                    .vaeTiled());
            assertTrue(MemoryPlan.fitting(f, c, Precision.FP32, Precision.FP32, null, 1024, 1024, 1, true, between)
                    .tiledToFit(), "tiled only to fit, which generate says");
            assertTrue(!MemoryPlan.fitting(f, c, Precision.FP32, Precision.FP32, null, 4096, 4096, 1, true, between)
                    .tiledToFit(), "tiled by size anyway: nothing to say");
            assertTrue(!MemoryPlan.fitting(f, c, Precision.FP32, Precision.FP32, null, 1024, 1024, 1, true,
                    auto.peakBytes()).vaeTiled(), "no tiling where the whole decode fits");
            assertTrue(!MemoryPlan.fitting(f, c, Precision.FP32, Precision.FP32, false, 1024, 1024, 1, true, between)
                    .vaeTiled(), "--no-vae-tiling is kept (and the run refused)");
            assertTrue(!MemoryPlan.fitting(f, c, Precision.FP32, Precision.FP32, null, 1024, 1024, 1, true,
                    autoTiled.peakBytes() - 1).vaeTiled(), "tiling that would not fit either changes nothing");
        }
    }

    /** SDXL: both text towers counted with the UNet, a refiner's weights added on top. */
    @Test
    void sdxlWeightsCountBothTextTowersAndARefiner() {
        ModelConfig c = ModelConfig.fromYaml(Fixtures.path("sdxl-tiny/config.yaml"));
        try (SafetensorsFile f = Fixtures.open("sdxl-tiny/model.safetensors")) {
            long half = f.keys().stream().filter(k -> k.startsWith("model.diffusion_model.")
                    || k.startsWith("conditioner.embedders.")).mapToLong(k -> f.info(k).numel()).sum();
            long vae = f.keys().stream().filter(k -> k.startsWith("first_stage_model."))
                    .mapToLong(k -> f.info(k).numel()).sum();
            MemoryPlan bf16 = MemoryPlan.estimate(f, c, Precision.BF16, Precision.FP32, false, 1024, 1024, 1, true);
            assertEquals(half * 2 + vae * 4, bf16.weightBytes());
            MemoryPlan both = bf16.withMoreWeights(1000);
            assertEquals(bf16.weightBytes() + 1000, both.weightBytes());
            assertEquals(bf16.peakBytes() + 1000, both.peakBytes());
        }
    }
}
