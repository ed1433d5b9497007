package dev.ldm4j.pipeline;

import static dev.ldm4j.Fixtures.assertClose;
import static dev.ldm4j.nn.Ops.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.GrayImage;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.model.Architecture;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.StepListener;
import dev.ldm4j.unet.Conditioning;
import java.util.Arrays;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The 9-channel inpainting model (sd1-tiny-inpaint): detection, UNet, conditioning and seeded runs. */
@org.junit.jupiter.api.Tag("golden")
class InpaintingModelTest {
    private static final String FOLDER = "sd1-tiny-inpaint";
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

    @Test
    void yamlAndDetectionAgreeItIsAnInpaintingModel() {
        ModelConfig yaml = ModelConfig.fromYaml(Fixtures.path(FOLDER + "/config.yaml"));
        assertTrue(yaml.inpainting());
        assertEquals(9, yaml.unet().inChannels());
        try (SafetensorsFile f = Fixtures.open(FOLDER + "/model.safetensors")) {
            ModelConfig detected = Architecture.detectConfig(f);
            assertTrue(detected.inpainting());
            assertEquals(9, detected.unet().inChannels());
            assertTrue(detected.describe().startsWith("SD 1.x inpainting"), detected.describe());
        }
        assertTrue(model().config().inpainting());
    }

    @Test
    void unetOnNineChannels() {
        String id = "unet_t1_t999";
        try (SafetensorsFile cf = Fixtures.open(FOLDER + "/cases/" + id + ".safetensors");
             InferenceMode guard = new InferenceMode();
             PointerScope scope = new PointerScope()) {
            Tensor t = Tensors.read(cf, "timesteps").to(ScalarType.Float);
            // the fixture's x is the UNet's whole input: split it into the latent and the concat conditioning
            Tensor x = Tensors.read(cf, "x");
            Tensor eps = model().unet().forward(x.narrow(1, 0, 4), t,
                    Conditioning.crossAttn(Tensors.read(cf, "context")).withConcat(x.narrow(1, 4, x.size(1) - 4)));
            assertClose(Tensors.read(cf, "eps"), eps, Fixtures.tolerance(FOLDER, id, "eps"), id + " eps");
        }
    }

    @Test
    void conditioningFromTheImageAndMaskFiles() {
        String id = "inpaint_conditioning";
        RgbImage image = Images.readRgb(Fixtures.path(FOLDER + "/init_64.png"));
        GrayImage mask = Images.readGray(Fixtures.path(FOLDER + "/mask_64.png"));
        try (SafetensorsFile cf = Fixtures.open(FOLDER + "/cases/" + id + ".safetensors");
             InferenceMode guard = new InferenceMode();
             PointerScope scope = new PointerScope()) {
            Tensor x = ImageTensors.toFloat(image).mul(s(2)).sub(s(1));
            assertClose(Tensors.read(cf, "image"), x, 0, id + " image");
            Tensor m = Masks.read(mask);
            assertClose(Tensors.read(cf, "mask"), m, 0, id + " mask");
            Tensor masked = Masks.maskedImage(x, m);
            assertClose(Tensors.read(cf, "masked_image"), masked, Fixtures.tolerance(FOLDER, id, "masked_image"),
                    id + " masked_image");
            Tensor latentMask = Masks.toLatent(m, 1, 8, 8);
            assertClose(Tensors.read(cf, "mask_latent"), latentMask, 0, id + " mask_latent");
            Tensor latent = LatentEncoder.encode(model(), masked, 1, InitImage.Encoding.MEAN, null);
            assertClose(Tensors.read(cf, "masked_image_latent"), latent,
                    Fixtures.tolerance(FOLDER, id, "masked_image_latent"), id + " masked_image_latent");
            assertClose(Tensors.read(cf, "c_concat"), Masks.conditioning(latentMask, latent),
                    Fixtures.tolerance(FOLDER, id, "c_concat"), id + " c_concat");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "seeded_inpaint_ddim_64x64, MEAN",
        "seeded_inpaint_ddim_sample_64x64, SAMPLE"
    })
    void seededRunsFromTheirParams(String id, InitImage.Encoding encoding) {
        GenerationRequest r = ImageToImageTest.request(FOLDER, id, encoding, InitImage.Noising.COMPVIS);
        ImageToImageTest.assertGolden(FOLDER, id, new Generator(model()), r);
    }

    @Test
    void textToImageRepaintsEverythingLikeAWhiteMask() {
        // A1111's text-to-image conditioning for inpainting models is a full mask over a grey image: the same
        // as inpainting an image under an all-white mask, whatever the image
        RgbImage image = Images.readRgb(Fixtures.path(FOLDER + "/init_64.png"));
        byte[] white = new byte[64 * 64];
        Arrays.fill(white, (byte) 255);
        GenerationRequest txt = new GenerationRequest("a red brick wall", "", 64, 64, 4, 7.5, "euler", "karras", 0,
                9, 2, 0);
        GenerationRequest inpaint = txt.withInit(new InitImage(image, new GrayImage(64, 64, white), 1.0,
                InitImage.Encoding.MEAN, InitImage.Noising.COMPVIS));
        try (GenerationResult a = new Generator(model()).generate(txt, StepListener.NONE);
             GenerationResult b = new Generator(model()).generate(inpaint, StepListener.NONE)) {
            assertEquals(2, a.latents().size(0));
            assertClose(a.latents(), b.latents(), 0, "text-to-image vs white-mask inpainting");
        }
    }
}
