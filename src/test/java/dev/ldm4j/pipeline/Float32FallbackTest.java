package dev.ldm4j.pipeline;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.Precision;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.StepListener;
import dev.ldm4j.unet.Conditioning;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A half-precision run that overflows is re-run in float32 instead of producing a black image. */
class Float32FallbackTest {
    @Test
    void overflowInFp16FallsBackToFloat32(@TempDir Path dir) {
        // sd1-tiny with an output bias beyond fp16's range (65504): finite in float32, Inf in fp16
        Path model = dir.resolve("overflow.safetensors");
        try (SafetensorsFile f = Fixtures.open("sd1-tiny/model.safetensors")) {
            Map<String, Tensor> all = new LinkedHashMap<>();
            for (String k : f.keys()) {
                Tensor t = Tensors.read(f, k);
                all.put(k, k.equals("model.diffusion_model.out.2.bias") ? t.add(new Scalar(1e5)) : t);
            }
            Tensors.write(model, all);
        }
        Path config = Fixtures.path("sd1-tiny/config.yaml");
        LatentDiffusionModel half = ModelLoader.load(new ModelLoader.Options(model, config, null, null,
                Precision.FP16, Precision.FP32));
        LatentDiffusionModel full = ModelLoader.load(new ModelLoader.Options(model, config, null, null,
                Precision.FP32, Precision.FP32));
        try (org.bytedeco.pytorch.InferenceMode g = new org.bytedeco.pytorch.InferenceMode()) {
            Tensor out = half.unet().forward(org.bytedeco.pytorch.global.torch.zeros(1, 4, 8, 8),
                    Tensors.fromFloats(new float[] {500f}, 1), Conditioning.crossAttn(org.bytedeco.pytorch.global.torch.zeros(1, 77, 32)));
            assertFalse(out.isfinite().all().item().toBool(), "the fp16 UNet must overflow for this test to mean anything");
        }
        GenerationRequest r = new GenerationRequest("an apple", "", 64, 64, 3, 7.5, "ddim", "discrete", 0, 1, 1, 0);
        try (GenerationResult fromHalf = new Generator(half).generate(r, StepListener.NONE);
             GenerationResult fromFull = new Generator(full).generate(r, StepListener.NONE)) {
            assertTrue(Float32Fallback.finite(fromFull), "the float32 run itself must be finite");
            assertTrue(Float32Fallback.finite(fromHalf), "the fp16 run was not replaced by a float32 one");
            assertClose(fromFull.latents(), fromHalf.latents(), 0.0, "fallback result");
        }
        assertEquals(Precision.FP32, half.float32().precision());
        assertFalse(half.float32() == half);
    }

    /**
     * A half-precision kernel found wrong mid-request (oneDNN then off, libtorch's own bf16 kernels scalar code):
     * the request runs again in float32, exactly as a float32 request would.
     */
    @Test
    void aWrongHalfPrecisionKernelRerunsTheRequestInFloat32() {
        Path model = Fixtures.path("sd1-tiny/model.safetensors");
        Path config = Fixtures.path("sd1-tiny/config.yaml");
        LatentDiffusionModel half = ModelLoader.load(new ModelLoader.Options(model, config, null, null,
                Precision.BF16, Precision.FP32));
        GenerationRequest r = new GenerationRequest("an apple", "", 64, 64, 3, 7.5, "ddim", "discrete", 0, 1, 1, 0);
        java.util.List<Precision> ran = new java.util.ArrayList<>();
        try (GenerationResult result = Float32Fallback.run(half, m -> {
                ran.add(m.precision());
                if (m.precision() == Precision.BF16) {
                    throw dev.ldm4j.nn.Kernels.halfPrecisionUnavailableForTest("conv2d BFloat16[2, 32, 8, 8]");
                }
                return new Generator(m).generate(r, StepListener.NONE);
            });
             GenerationResult fromFull = new Generator(half.float32()).generate(r, StepListener.NONE)) {
            assertEquals(java.util.List.of(Precision.BF16, Precision.FP32), ran);
            assertClose(fromFull.latents(), result.latents(), 0.0, "the float32 rerun");
        }
    }
}
