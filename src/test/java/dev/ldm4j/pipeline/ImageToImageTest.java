package dev.ldm4j.pipeline;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.GrayImage;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.Step;
import dev.ldm4j.sampling.StepListener;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The sd1-tiny image-conditioned reference runs (img2img with the posterior mean and a posterior sample, the
 * diffusers noising variant, masked blending with the normal model), each from its params alone through the
 * pipeline the CLI uses.
 */
@org.junit.jupiter.api.Tag("golden")
class ImageToImageTest {
    static final String FOLDER = "sd1-tiny";
    private static LatentDiffusionModel model;

    static LatentDiffusionModel model() {
        if (model == null) {
            model = ModelLoader.load(new ModelLoader.Options(Fixtures.path(FOLDER + "/model.safetensors"),
                    Fixtures.path(FOLDER + "/config.yaml"), null, null));
        }
        return model;
    }

    @AfterAll
    static void clear() {
        model = null;
    }

    /** The request a case's params describe; a case without a strength (inpainting) runs the whole schedule. */
    static GenerationRequest request(String folder, String id, InitImage.Encoding encoding, InitImage.Noising noising) {
        var p = Fixtures.caseOf(folder, id).path("params");
        RgbImage image = Images.readRgb(Fixtures.path(folder + "/" + p.path("init_img").asText()));
        GrayImage mask = p.has("mask") ? Images.readGray(Fixtures.path(folder + "/" + p.path("mask").asText())) : null;
        double strength = p.has("strength") ? p.path("strength").asDouble() : 1.0;
        InitImage init = new InitImage(image, mask, strength, encoding, noising);
        return new GenerationRequest(p.path("prompt").asText(), p.path("negative_prompt").asText(),
                p.path("width").asInt(), p.path("height").asInt(), p.path("steps").asInt(),
                p.path("cfg_scale").asDouble(), p.path("sampler").asText(), p.path("scheduler").asText(), 0,
                p.path("seed").asLong(), p.path("batch_size").asInt(), 0, init);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "seeded_img2img_ddim_64x64, MEAN, COMPVIS",
        "seeded_img2img_ddim_sample_64x64, SAMPLE, COMPVIS",
        "img2img_ddim_diffusers_timesteps, MEAN, DIFFUSERS",
        "seeded_inpaint_blend_ddim_64x64, MEAN, COMPVIS"
    })
    void referenceRunsFromTheirParams(String id, InitImage.Encoding encoding, InitImage.Noising noising) {
        GenerationRequest r = request(FOLDER, id, encoding, noising);
        assertGolden(FOLDER, id, new Generator(model()), r);
    }

    /** Runs {@code r} and compares the per-step latents, final latent, image and PNG with case {@code id}. */
    static void assertGolden(String folder, String id, Generator pipeline, GenerationRequest r) {
        List<Tensor> steps = new ArrayList<>();
        StepListener record = StepListener.onStep((Step s) -> steps.add(Tensors.retain(s.latent().clone())));
        try (SafetensorsFile cf = Fixtures.open(folder + "/cases/" + id + ".safetensors");
             GenerationResult result = pipeline.generate(r, record)) {
            Tensor expectedSteps = Tensors.read(cf, "latent_steps");
            assertEquals(expectedSteps.size(0), steps.size(), id + ": number of steps");
            assertClose(expectedSteps, Ops.cat(0, steps.toArray(Tensor[]::new)).view(Tensors.shape(expectedSteps)),
                    Fixtures.tolerance(folder, id, "latent_steps"), id + " latent_steps");
            assertClose(Tensors.read(cf, "final_latent"), result.latents(),
                    Fixtures.tolerance(folder, id, "final_latent"), id + " final_latent");
            assertClose(Tensors.read(cf, "image"), result.images(), Fixtures.tolerance(folder, id, "image"),
                    id + " image");
            var png = Fixtures.caseOf(folder, id).path("png");
            if (!png.isMissingNode()) {
                int levels = Fixtures.caseOf(folder, id).path("tolerance").path("png_max_abs_levels").asInt();
                RgbImage mine = ImageTensors.toRgb8(result.images()).get(0);
                RgbImage golden = Images.readRgb(Fixtures.path(folder + "/" + png.path("files").get(0).asText()));
                int diff = TextToImageTest.maxLevelDiff(mine, golden);
                assertTrue(diff <= levels, id + ": PNG differs by " + diff + " > " + levels + " levels");
            }
        } finally {
            steps.forEach(Tensor::releaseReference);
        }
    }
}
