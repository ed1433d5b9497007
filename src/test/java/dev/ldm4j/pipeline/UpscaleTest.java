package dev.ldm4j.pipeline;

import static dev.ldm4j.Fixtures.assertClose;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.StepListener;
import dev.ldm4j.unet.Conditioning;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The x4 upscaler against Stability-AI/stablediffusion's LatentUpscaleDiffusion ({@code sd-x4-upscaler-tiny}). */
@Tag("golden")
class UpscaleTest {
    private static final String FOLDER = "sd-x4-upscaler-tiny";
    private static LatentDiffusionModel model;

    @BeforeAll
    static void load() {
        model = ModelLoader.load(new ModelLoader.Options(Fixtures.path(FOLDER + "/model.safetensors"),
                Fixtures.path(FOLDER + "/config.yaml"), null, null));
    }

    @AfterAll
    static void close() {
        // null when the fixtures are absent and the class was skipped
        if (model != null) {
            model.close();
        }
    }

    private static double tol(String id, String name) {
        return Fixtures.tolerance(FOLDER, id, name);
    }

    @Test
    void noiseAugmentationMatchesTheReference() {
        String id = "noise_augmentation";
        try (SafetensorsFile cf = Fixtures.open(FOLDER + "/cases/" + id + ".safetensors");
             SafetensorsFile f = Fixtures.open(FOLDER + "/model.safetensors");
             InferenceMode g = new InferenceMode()) {
            // the schedule made here is the checkpoint's own low_scale_model buffer
            assertClose(Tensors.read(f, "low_scale_model.alphas_cumprod"), Tensors.fromFloats(
                    dev.ldm4j.sampling.NoiseSchedule.linear(1000, 0.0001, 0.02).alphasCumprod(), 1000), 0, "schedule");
            Tensor xLow = Tensors.readFloat(cf, "x_low");
            Tensor noise = Tensors.readFloat(cf, "noise");
            long[] levels = Tensors.toLongs(Tensors.read(cf, "noise_level"));
            Tensor expected = Tensors.read(cf, "x_aug");
            for (int b = 0; b < levels.length; b++) {
                assertClose(expected.narrow(0, b, 1), Upscale.augment(xLow.narrow(0, b, 1), noise.narrow(0, b, 1),
                        (int) levels[b]), tol(id, "x_aug"), "x_aug " + b);
            }
        }
    }

    @Test
    void unetWithConcatAndNoiseLevelMatches() {
        String id = "unet_t1_t999";
        try (SafetensorsFile cf = Fixtures.open(FOLDER + "/cases/" + id + ".safetensors");
             InferenceMode g = new InferenceMode()) {
            Tensor x = Tensors.readFloat(cf, "x");
            Tensor y = Tensors.readFloat(cf, "y");
            Tensor v = model.unet().forward(x.narrow(1, 0, 4), Tensors.readFloat(cf, "timesteps"),
                    Conditioning.crossAttn(Tensors.readFloat(cf, "context")).withConcat(x.narrow(1, 4, 3)).withVector(y));
            assertClose(Tensors.read(cf, "model_output_v"), v, tol(id, "model_output_v"), "v");
        }
    }

    @Test
    void theSeededRunReproducesTheReference() {
        String id = "seeded_upscale_ddim_32_to_128";
        var p = Fixtures.caseOf(FOLDER, id).path("params");
        InitImage init = InitImage.of(Images.readRgb(Fixtures.path(FOLDER + "/" + p.path("init_img").asText())), 1.0)
                .withNoiseLevel(p.path("noise_level").asInt());
        GenerationRequest r = new GenerationRequest(p.path("prompt").asText(), p.path("negative_prompt").asText(),
                init.image().width(), init.image().height(), p.path("steps").asInt(), p.path("cfg_scale").asDouble(),
                p.path("sampler").asText(), p.path("scheduler").asText(), 0, p.path("seed").asLong(), 1, 0, init);
        try (SafetensorsFile cf = Fixtures.open(FOLDER + "/cases/" + id + ".safetensors");
             GenerationResult result = new Generator(model).generate(r, StepListener.NONE)) {
            assertClose(Tensors.read(cf, "final_latent"), result.latents(), tol(id, "final_latent"), "final_latent");
            assertClose(Tensors.read(cf, "image"), result.images(), tol(id, "image"), "image");
        }
    }

    /**
     * Without its YAML the upscaler is told from its shapes (7 input channels, a label embedding), with the
     * released config's settings for what shapes cannot show: all the tiny model's YAML says but its head count
     * (4 here; the released model has 8).
     */
    @Test
    void theUpscalerIsDetectedWithoutItsYaml() {
        dev.ldm4j.model.ModelConfig yaml = dev.ldm4j.model.ModelConfig.fromYaml(Fixtures.path(FOLDER + "/config.yaml"));
        try (SafetensorsFile f = Fixtures.open(FOLDER + "/model.safetensors")) {
            dev.ldm4j.model.ModelConfig detected = dev.ldm4j.model.Architecture.detectConfig(f);
            org.junit.jupiter.api.Assertions.assertTrue(detected.upscaler());
            org.junit.jupiter.api.Assertions.assertTrue(detected.vPrediction());
            org.junit.jupiter.api.Assertions.assertEquals(yaml.vae().scaleFactor(), detected.vae().scaleFactor(), 1e-9);
            org.junit.jupiter.api.Assertions.assertEquals(yaml.linearStart(), detected.linearStart(), 1e-12);
            org.junit.jupiter.api.Assertions.assertEquals(yaml.textLayer(), detected.textLayer());
            dev.ldm4j.unet.UNetConfig u = yaml.unet();
            dev.ldm4j.unet.UNetConfig expected = new dev.ldm4j.unet.UNetConfig(u.inChannels(), u.outChannels(),
                    u.modelChannels(), u.attentionResolutions(), u.numResBlocks(), u.channelMult(), 8, -1,
                    u.transformerDepth(), u.contextDim(), u.useLinearInTransformer(), u.legacy(),
                    u.disableSelfAttentions(), u.numClasses());
            org.junit.jupiter.api.Assertions.assertEquals(expected.toString(), detected.unet().toString());
            org.junit.jupiter.api.Assertions.assertArrayEquals(u.disableSelfAttentions(),
                    detected.unet().disableSelfAttentions());
        }
    }
}
