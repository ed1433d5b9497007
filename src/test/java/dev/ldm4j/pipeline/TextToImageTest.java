package dev.ldm4j.pipeline;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.SeededNoise;
import dev.ldm4j.sampling.StepListener;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Whole text-to-image runs through the pipeline the CLI uses, against the reference runs. */
@org.junit.jupiter.api.Tag("golden")
class TextToImageTest {
    private static final String PROMPT = "a photograph of an astronaut riding a horse";
    private static final Map<String, LatentDiffusionModel> MODELS = new HashMap<>();

    static LatentDiffusionModel model(String folder) {
        return MODELS.computeIfAbsent(folder, f -> ModelLoader.load(new ModelLoader.Options(
                Fixtures.path(f + "/model.safetensors"), Fixtures.path(f + "/config.yaml"), null, null)));
    }

    @AfterAll
    static void clear() {
        MODELS.clear();
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "sd1-tiny, seeded_ddim_64x64, 0",
        "sd1-tiny, seeded_ddim_clip_skip2_64x64, 2"
    })
    void seededRunsReproduceTheReferenceFromParamsAlone(String folder, String id, int clipSkip) {
        GenerationRequest r = new GenerationRequest(PROMPT, "", 64, 64, 10, 7.5, "ddim", "discrete", 0, 42, 1,
                clipSkip);
        try (SafetensorsFile cf = Fixtures.open(folder + "/cases/" + id + ".safetensors");
             GenerationResult result = new Generator(model(folder)).generate(r, StepListener.NONE)) {
            assertClose(Tensors.read(cf, "final_latent"), result.latents(),
                    Fixtures.tolerance(folder, id, "final_latent"), id + " final_latent");
            assertClose(Tensors.read(cf, "image"), result.images(), Fixtures.tolerance(folder, id, "image"),
                    id + " image");
            int levels = Fixtures.caseOf(folder, id).path("tolerance").path("png_max_abs_levels").asInt();
            RgbImage mine = ImageTensors.toRgb8(result.images()).get(0);
            RgbImage golden = Images.readRgb(Fixtures.path(folder + "/cases/" + id + "_0.png"));
            assertTrue(maxLevelDiff(mine, golden) <= levels, "PNG differs by more than " + levels + " levels");
        }
    }

    static int maxLevelDiff(RgbImage a, RgbImage b) {
        assertTrue(a.width() == b.width() && a.height() == b.height(), "image sizes differ");
        int m = 0;
        for (int i = 0; i < a.pixels().length; i++) {
            m = Math.max(m, Math.abs((a.pixels()[i] & 0xff) - (b.pixels()[i] & 0xff)));
        }
        return m;
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "sd1-tiny, ddim_cfg, ddim, discrete, 0, -1",
        "sd1-tiny, plms_cfg, plms, discrete, 0, -1",
        "sd1-tiny, ddim_eta1_seeded, ddim, discrete, 1, 1234",
        "sd1-tiny, kdiff_euler, euler, karras, 0, -1",
        "sd1-tiny, kdiff_heun, heun, karras, 0, -1",
        "sd1-tiny, kdiff_dpmpp_2m, dpm++2m, karras, 0, -1",
        "sd2-tiny, ddim_cfg, ddim, discrete, 0, -1",
        "sd2-tiny, kdiff_euler_v, euler, karras, 0, -1"
    })
    void samplersWithTheRealUNetFollowTheReference(String folder, String id, String sampler, String scheduler,
                                                   double eta, long seed) {
        GenerationRequest r = new GenerationRequest(PROMPT, "", 64, 64, 10, 7.5, sampler, scheduler, eta, 0, 1, 0);
        try (SafetensorsFile cf = Fixtures.open(folder + "/cases/" + id + ".safetensors");
             SeededNoise noise = new SeededNoise(seed < 0 ? 0 : seed)) {
            Tensor xT = Tensors.read(cf, "x_T");
            try (GenerationResult result = new Generator(model(folder)).generateFrom(r, xT, noise, StepListener.NONE)) {
                assertClose(Tensors.read(cf, "final_latent"), result.latents(),
                        Fixtures.tolerance(folder, id, "final_latent"), id + " final_latent");
                if (cf.has("image")) {
                    assertClose(Tensors.read(cf, "image"), result.images(), Fixtures.tolerance(folder, id, "image"),
                            id + " image");
                }
            }
        }
    }

    @Test
    void cfgScaleOneSkipsTheUnconditionalBranchButNotTheResult() {
        // scale 1 evaluates the conditional batch alone; it must equal guidance computed on the doubled batch
        LatentDiffusionModel sd = model("sd1-tiny");
        GenerationRequest r = new GenerationRequest(PROMPT, "blurry", 64, 64, 3, 1.0, "euler", "discrete", 0, 5, 2, 0);
        GenerationRequest nearlyOne = new GenerationRequest(PROMPT, "blurry", 64, 64, 3, 1.0 + 1e-7, "euler",
                "discrete", 0, 5, 2, 0);
        try (GenerationResult a = new Generator(sd).generate(r, StepListener.NONE);
             GenerationResult b = new Generator(sd).generate(nearlyOne, StepListener.NONE)) {
            assertClose(b.latents(), a.latents(), 1e-4, "cfg 1 vs doubled batch");
        }
    }
}
