package dev.ldm4j.pipeline;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.SeededNoise;
import dev.ldm4j.sampling.Step;
import dev.ldm4j.sampling.StepListener;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The hires fix: A1111's target sizes (scale, hr_resize_x/y with truncation), the "Latent" upscale against
 * torch.nn.functional.interpolate (scripts/reference/a1111_masks.py), and seeded runs on sd1-tiny: output size,
 * one step count over both passes, the first pass equal to plain text-to-image.
 */
class HiresFixTest {
    private static LatentDiffusionModel model;

    private static LatentDiffusionModel model() {
        if (model == null) {
            model = ModelLoader.load(new ModelLoader.Options(Fixtures.path("sd1-tiny/model.safetensors"),
                    Fixtures.path("sd1-tiny/config.yaml"), null, null));
        }
        return model;
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
        model = null;
    }

    private static HiresFix hires(double scale, int rx, int ry, int steps, double denoise, String upscaler) {
        return new HiresFix(scale, rx, ry, steps, denoise, upscaler, null);
    }

    @ParameterizedTest(name = "{0}x{1} scale {2} resize {3}x{4}")
    @CsvSource({"512, 512, 2, 0, 0, 1024, 1024, 0, 0", "512, 768, 1.5, 0, 0, 768, 1152, 0, 0",
        "512, 512, 2, 1024, 0, 1024, 1024, 0, 0", "512, 768, 2, 0, 1000, 666, 1000, 0, 0",
        "512, 512, 2, 1024, 768, 1024, 1024, 0, 32", "768, 512, 2, 800, 800, 1200, 800, 50, 0",
        "32, 32, 1.7, 0, 0, 54, 54, 0, 0"})
    void targetFollowsA1111(int w, int h, double scale, int rx, int ry, int tx, int ty, int cx, int cy) {
        HiresFix.Target t = hires(scale, rx, ry, 0, 0.5, "Latent").target(w, h);
        assertEquals(new HiresFix.Target(tx, ty, cx, cy), t);
    }

    @ParameterizedTest(name = "{0}x{1}")
    @CsvSource({"16, 16", "12, 20"})
    void latentUpscaleIsTorchBilinear(int h, int w) throws IOException {
        float[] expected;
        try (InputStream in = getClass().getResourceAsStream("/dev/ldm4j/io/a1111-masks/latent_up_" + h + "x" + w + ".f32")) {
            ByteBuffer buf = ByteBuffer.wrap(in.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
            expected = new float[buf.remaining() / 4];
            buf.asFloatBuffer().get(expected);
        }
        try (PointerScope scope = new PointerScope(); SeededNoise noise = new SeededNoise(0)) {
            Tensor up = hires(2, 0, 0, 0, 0.5, "Latent").interpolate(noise.randn(1, 4, 8, 8), h, w);
            assertArrayEquals(new long[] {1, 4, h, w}, Tensors.shape(up));
            assertClose(Tensors.fromFloats(expected, 1, 4, h, w), up, 1e-6, "latent upscale");
        }
    }

    private static GenerationRequest request(String sampler, int w, int h) {
        return new GenerationRequest("a red barn", "", w, h, 4, 7.5, sampler, "discrete", 0, 9, 1, 0);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"Latent, euler_a, 2, 0, 0, 64, 64", "Lanczos, euler_a, 2, 0, 0, 64, 64",
        "Latent (bicubic), ddim, 1.5, 0, 0, 48, 48", "Bicubic, dpm++2m, 2, 56, 48, 56, 48",
        "Nearest, euler, 1, 40, 0, 40, 40"})
    void secondPassHasTheTargetSizeAndOneStepCount(String upscaler, String sampler, double scale, int rx, int ry,
                                                   int w, int h) {
        HiresFix fix = hires(scale, rx, ry, 3, 0.5, upscaler);
        Generator generator = new Generator(model(), new Generator.Options(null).withHires(fix));
        GenerationRequest r = request(sampler, 32, 32);
        int planned = generator.plannedSteps(r);
        int second = sampler.equals("ddim") ? 2 : 3; // CompVis samplers run t_enc = hires steps - 1
        assertEquals(4 + second, planned);
        List<Integer> seen = new ArrayList<>();
        try (GenerationResult result = generator.generate(r, new StepListener() {
            @Override
            public void afterStep(Step s) {
                seen.add(s.index());
                assertEquals(planned, s.count());
            }
        })) {
            assertArrayEquals(new long[] {1, 3, h, w}, Tensors.shape(result.images()));
            assertArrayEquals(new long[] {1, 4, h / 8, w / 8}, Tensors.shape(result.latents()));
        }
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < planned; i++) {
            expected.add(i);
        }
        assertEquals(expected, seen);
    }

    @Test
    void firstPassIsTextToImageAndTheSecondChangesIt() {
        GenerationRequest r = request("euler_a", 32, 32);
        List<Tensor> firstPass = new ArrayList<>();
        Generator plain = new Generator(model());
        Generator hires = new Generator(model(), new Generator.Options(null).withHires(hires(2, 0, 0, 3, 0.6,
                "Latent")));
        try (GenerationResult txt = plain.generate(r, StepListener.NONE);
             GenerationResult hr = hires.generate(r, new StepListener() {
                 @Override
                 public void afterStep(Step s) {
                     if (s.index() == 3) {
                         firstPass.add(Tensors.retain(s.latent().clone()));
                     }
                 }
             })) {
            assertClose(txt.latents(), firstPass.get(0), 0, "first pass");
            // the second pass at 0.6 denoising keeps the composition: its latent, shrunk back, is near the first
            Tensor down = org.bytedeco.pytorch.global.torch.avg_pool2d(hr.latents(), new long[] {2, 2});
            double diff = down.sub(txt.latents()).abs().mean().item().toDouble();
            double scale = txt.latents().abs().mean().item().toDouble();
            assertNotEquals(0.0, diff);
            org.junit.jupiter.api.Assertions.assertTrue(diff < scale, "second pass drifted: " + diff + " vs " + scale);
            assertEquals(64, ImageTensors.toRgb8(hr.images()).get(0).width());
        }
    }

    @Test
    void x4UpscalerModelAsTheHiresUpscaler() {
        try (LatentDiffusionModel x4 = ModelLoader.load(new ModelLoader.Options(
                Fixtures.path("sd-x4-upscaler-tiny/model.safetensors"),
                Fixtures.path("sd-x4-upscaler-tiny/config.yaml"), null, null))) {
            HiresFix fix = new HiresFix(1.5, 0, 0, 2, 0.5, "x4", x4);
            Generator generator = new Generator(model(), new Generator.Options(null).withHires(fix));
            GenerationRequest r = request("euler", 32, 32);
            int planned = generator.plannedSteps(r);
            assertEquals(4 + 2 + 2, planned); // first pass, the x4 run (hires steps), the second pass
            int[] last = {-1};
            try (GenerationResult result = generator.generate(r, StepListener.onStep(s -> last[0] = s.index()))) {
                assertArrayEquals(new long[] {1, 3, 48, 48}, Tensors.shape(result.images()));
            }
            assertEquals(planned - 1, last[0]);
        }
    }

    @Test
    void refusesWhatA1111Refuses() {
        assertThrows(BadRequestException.class, () -> hires(2, 0, 0, 0, 0, "Latent"));
        assertThrows(BadRequestException.class, () -> hires(2, 0, 0, 0, 0.5, "ESRGAN_4x"));
        assertThrows(BadRequestException.class, () -> hires(2, 0, 0, 0, 0.5, "Latent (antialiased)"));
        assertThrows(BadRequestException.class, () -> hires(2, 0, 0, 0, 0.5, "x4"));
        Generator g = new Generator(model(), new Generator.Options(null).withHires(hires(2, 0, 0, 0, 0.5, "Latent")));
        GenerationRequest img2img = request("euler", 32, 32).withInit(InitImage.of(
                new dev.ldm4j.io.RgbImage(32, 32, new byte[32 * 32 * 3]), 0.5));
        assertThrows(BadRequestException.class, () -> g.validate(img2img));
    }
}
