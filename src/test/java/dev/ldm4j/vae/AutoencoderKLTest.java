package dev.ldm4j.vae;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Weights;
import dev.ldm4j.sampling.SeededNoise;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.yaml.snakeyaml.Yaml;

@org.junit.jupiter.api.extension.ExtendWith(dev.ldm4j.BothGradModes.class)
@org.junit.jupiter.api.Tag("golden")
class AutoencoderKLTest {
    private static final String PREFIX = "first_stage_model.";

    static VaeConfig configOf(String folder) {
        try (Reader r = Files.newBufferedReader(Fixtures.path(folder + "/config.yaml"))) {
            Map<String, Object> root = new Yaml().load(r);
            return VaeConfig.fromLdmConfig(root);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static AutoencoderKL load(SafetensorsFile ckpt, VaeConfig c) {
        return new AutoencoderKL(Weights.of(new CheckpointSource(ckpt), PREFIX), c);
    }

    // sd2-tiny is stored F16: CheckpointSource widens to float32, as the reference computed
    @ParameterizedTest
    @ValueSource(strings = {"sd1-tiny", "sd2-tiny"})
    void encodeMatchesReference(String folder) {
        String id = "vae_encode";
        try (SafetensorsFile ckpt = Fixtures.open(folder + "/model.safetensors");
             SafetensorsFile cf = Fixtures.open(folder + "/cases/" + id + ".safetensors")) {
            AutoencoderKL vae = load(ckpt, configOf(folder));
            Tensor image = Tensors.readFloat(cf, "image");
            assertClose(Tensors.read(cf, "moments"), vae.moments(image), Fixtures.tolerance(folder, id, "moments"),
                    folder + " moments");
            Posterior p = vae.encode(image);
            for (String name : new String[] {"mean", "logvar", "std"}) {
                Tensor actual = switch (name) {
                    case "mean" -> p.mean();
                    case "logvar" -> p.logvar();
                    default -> p.std();
                };
                assertClose(Tensors.read(cf, name), actual, Fixtures.tolerance(folder, id, name), folder + " " + name);
            }
        }
    }

    // sd-x4-upscaler-tiny: ch_mult [1, 2, 4], so f = 4 (16x16 latent -> 64x64 image)
    @ParameterizedTest
    @ValueSource(strings = {"sd1-tiny", "sd2-tiny", "sd-x4-upscaler-tiny"})
    void decodeMatchesReference(String folder) {
        String id = "vae_decode";
        try (SafetensorsFile ckpt = Fixtures.open(folder + "/model.safetensors");
             SafetensorsFile cf = Fixtures.open(folder + "/cases/" + id + ".safetensors")) {
            AutoencoderKL vae = load(ckpt, configOf(folder));
            // as a request would run it: inside its own scope (the blocks nest their own scopes in it)
            try (PointerScope request = new PointerScope()) {
                Tensor decoded = vae.decode(Tensors.readFloat(cf, "z"));
                assertClose(Tensors.read(cf, "decoded"), decoded, Fixtures.tolerance(folder, id, "decoded"),
                        folder + " decoded");
            }
        }
    }

    /** The inpainting model's concat conditioning: the masked image's moments and scaled posterior mean. */
    @Test
    void encodesTheMaskedImageOfTheInpaintingModel() {
        String folder = "sd1-tiny-inpaint";
        String id = "inpaint_conditioning";
        try (SafetensorsFile ckpt = Fixtures.open(folder + "/model.safetensors");
             SafetensorsFile cf = Fixtures.open(folder + "/cases/" + id + ".safetensors")) {
            AutoencoderKL vae = load(ckpt, configOf(folder));
            Tensor masked = Tensors.readFloat(cf, "masked_image");
            assertClose(Tensors.read(cf, "masked_image_moments"), vae.moments(masked),
                    Fixtures.tolerance(folder, id, "masked_image_moments"), "masked_image_moments");
            assertClose(Tensors.read(cf, "masked_image_latent"), vae.toDiffusion(vae.encode(masked).mode()),
                    Fixtures.tolerance(folder, id, "masked_image_latent"), "masked_image_latent");
        }
    }

    /** The CompVis img2img flow: the posterior sample's noise is the first draw after seeding. */
    @Test
    void posteriorSampleFollowsTheSeededStream() {
        String folder = "sd1-tiny";
        String id = "seeded_img2img_ddim_sample_64x64";
        long seed = Fixtures.caseOf(folder, id).path("params").path("seed").asLong();
        try (SafetensorsFile ckpt = Fixtures.open(folder + "/model.safetensors");
             SafetensorsFile cf = Fixtures.open(folder + "/cases/" + id + ".safetensors");
             SeededNoise noise = new SeededNoise(seed)) {
            AutoencoderKL vae = load(ckpt, configOf(folder));
            Tensor initLatent = vae.toDiffusion(vae.encode(Tensors.readFloat(cf, "init_image")).sample(noise));
            assertClose(Tensors.read(cf, "init_latent"), initLatent, Fixtures.tolerance(folder, id, "init_latent"),
                    "init_latent");
            // the stream continues where the posterior left it: the next draw is the img2img noise
            assertClose(Tensors.read(cf, "noise"), noise.randn(1, 4, 8, 8), 0.0, "img2img noise");
        }
    }

    @Test
    void decodesADiffusionLatentThroughTheScaleFactor() {
        String folder = "sd1-tiny";
        String id = "seeded_img2img_ddim_sample_64x64";
        try (SafetensorsFile ckpt = Fixtures.open(folder + "/model.safetensors");
             SafetensorsFile cf = Fixtures.open(folder + "/cases/" + id + ".safetensors")) {
            AutoencoderKL vae = load(ckpt, configOf(folder));
            Tensor decoded = vae.decode(vae.fromDiffusion(Tensors.readFloat(cf, "final_latent")));
            assertClose(Tensors.read(cf, "decoded"), decoded, Fixtures.tolerance(folder, id, "decoded"), "decoded");
        }
    }

    @Test
    void aMissingKeyIsNamed() {
        VaeConfig sd1 = configOf("sd1-tiny");
        // one ResnetBlock more per level than the file has
        VaeConfig tooDeep = new VaeConfig(sd1.ch(), sd1.chMult(), 2, sd1.zChannels(), sd1.embedDim(),
                sd1.inChannels(), sd1.outCh(), sd1.attnResolutions(), sd1.resolution(), sd1.scaleFactor());
        try (SafetensorsFile ckpt = Fixtures.open("sd1-tiny/model.safetensors")) {
            ModelFileException e = assertThrows(ModelFileException.class, () -> load(ckpt, tooDeep));
            assertTrue(e.getMessage().contains("first_stage_model.encoder.down.0.block.1.norm1.weight"), e.getMessage());
        }
    }

    @Test
    void aWrongShapeIsNamed() {
        VaeConfig sd1 = configOf("sd1-tiny");
        VaeConfig wider = new VaeConfig(64, sd1.chMult(), sd1.numResBlocks(), sd1.zChannels(), sd1.embedDim(),
                sd1.inChannels(), sd1.outCh(), sd1.attnResolutions(), sd1.resolution(), sd1.scaleFactor());
        try (SafetensorsFile ckpt = Fixtures.open("sd1-tiny/model.safetensors")) {
            ModelFileException e = assertThrows(ModelFileException.class, () -> load(ckpt, wider));
            assertTrue(e.getMessage().contains("first_stage_model.encoder.conv_in.weight"), e.getMessage());
        }
    }

    @Test
    void downscaleFactorFollowsChMult() {
        try (SafetensorsFile ckpt = Fixtures.open("sd1-tiny/model.safetensors")) {
            assertEquals(8, load(ckpt, configOf("sd1-tiny")).downscaleFactor());
        }
    }
}
