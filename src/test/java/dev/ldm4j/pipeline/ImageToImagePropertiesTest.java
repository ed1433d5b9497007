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
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.Samplers;
import dev.ldm4j.sampling.Scheduler;
import dev.ldm4j.sampling.Sigmas;
import dev.ldm4j.sampling.Step;
import dev.ldm4j.sampling.StepListener;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What image-to-image must do where no reference run exists (the k-diffusion samplers, strength at its ends,
 * masks with other samplers), checked against the golden init latent and noise of the sd1-tiny img2img case:
 * seed 31, photo_64.png, posterior mean.
 */
@org.junit.jupiter.api.Tag("golden")
class ImageToImagePropertiesTest {
    private static final String CASE = "seeded_img2img_ddim_64x64";
    private static final String PROMPT = "a watercolor painting of a mountain lake";
    private static RgbImage photo;
    private static GrayImage mask;

    @BeforeAll
    static void images() {
        photo = Images.readRgb(Fixtures.path("sd1-tiny/photo_64.png"));
        mask = Images.readGray(Fixtures.path("sd1-tiny/mask_64.png"));
    }

    private static LatentDiffusionModel model() {
        return ImageToImageTest.model();
    }

    private static GenerationRequest request(String sampler, String scheduler, InitImage init) {
        return new GenerationRequest(PROMPT, "", 64, 64, 10, 7.5, sampler, scheduler, 0, 31, 1, 0, init);
    }

    /** A listener that keeps a copy of the latent the first step starts from and counts the steps. */
    private static final class Recorder implements StepListener {
        Tensor first;
        int steps;

        @Override
        public Tensor beforeStep(int index, Tensor latent) {
            if (index == 0) {
                first = Tensors.retain(latent.clone());
            }
            return latent;
        }

        @Override
        public void afterStep(Step step) {
            steps++;
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "ddim, discrete", "plms, discrete", "euler, karras", "euler_a, discrete", "heun, karras", "dpm++2m, karras"
    })
    void strengthOneIsTextToImageWhateverTheImage(String sampler, String scheduler) {
        GenerationRequest txt = request(sampler, scheduler, null);
        try (GenerationResult a = new Generator(model()).generate(txt, StepListener.NONE);
             GenerationResult b = new Generator(model()).generate(txt.withInit(InitImage.of(photo, 1.0)),
                     StepListener.NONE)) {
            assertClose(a.latents(), b.latents(), 0, sampler + ": strength 1 vs text-to-image");
        }
    }

    /**
     * k-diffusion img2img as AUTOMATIC1111 and stable-diffusion.cpp run it: t_enc = int(0.6 * 10) = 6, x = init +
     * noise * sigmas[10 - 6 - 1], then the t_enc + 1 steps sigmas[3:]; diffusers noises at and samples from
     * sigmas[4]. The noise is the seed's first draw, as in the DDIM reference run.
     */
    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({
        "euler, discrete, COMPVIS, 3",
        "euler_a, karras, COMPVIS, 3",
        "heun, karras, COMPVIS, 3",
        "dpm++2m, karras, COMPVIS, 3",
        "euler, karras, DIFFUSERS, 4",
        "dpm++2m, discrete, DIFFUSERS, 4"
    })
    void kDiffusionStartsFromTheInitLatentNoisedToItsSigma(String sampler, String scheduler,
                                                           InitImage.Noising noising, int start) {
        InitImage init = InitImage.of(photo, 0.6).withEncoding(InitImage.Encoding.MEAN).withNoising(noising);
        Sigmas sigmas = (Sigmas) Samplers.byName(sampler).plan(model().schedule(), Scheduler.byName(scheduler), 10);
        Recorder rec = new Recorder();
        try (SafetensorsFile cf = Fixtures.open("sd1-tiny/cases/" + CASE + ".safetensors");
             PointerScope scope = new PointerScope();
             GenerationResult r = new Generator(model()).generate(request(sampler, scheduler, init), rec)) {
            Tensor expected = Tensors.read(cf, "init_latent").add(Tensors.read(cf, "noise"), s(sigmas.get(start)));
            assertClose(expected, rec.first, 1e-4 * sigmas.get(start), sampler + " starting latent");
            assertEquals(10 - start, rec.steps, sampler + ": steps run");
            assertEquals(10 - start, new Generator(model()).plannedSteps(request(sampler, scheduler, init)));
        } finally {
            rec.first.releaseReference();
        }
    }

    /** The CompVis samplers start from the reference's z_enc (timestep 601) and run t_enc = 6 steps. */
    @ParameterizedTest
    @ValueSource(strings = {"ddim", "plms", "ddpm"})
    void timestepSamplersStartFromTheReferenceNoisedLatent(String sampler) {
        InitImage init = InitImage.of(photo, 0.6).withEncoding(InitImage.Encoding.MEAN);
        Recorder rec = new Recorder();
        try (SafetensorsFile cf = Fixtures.open("sd1-tiny/cases/" + CASE + ".safetensors");
             GenerationResult r = new Generator(model()).generate(request(sampler, "discrete", init), rec)) {
            assertClose(Tensors.read(cf, "z_enc"), rec.first, Fixtures.tolerance("sd1-tiny", CASE, "z_enc"),
                    sampler + " z_enc");
            assertEquals(6, rec.steps, sampler + ": steps run");
        } finally {
            rec.first.releaseReference();
        }
    }

    /**
     * Strength 0 runs one k-diffusion step from the lowest noise level sigma_min (about 0.03) and no DDIM step from
     * timestep 1 (whose sqrt(1 - a) is about 0.04): the result moves from the init latent by sigma_min times
     * (noise - guided eps), a few sigma_min, and far less than at strength 0.3.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"euler, discrete", "euler_a, karras", "heun, karras", "dpm++2m, karras", "ddim, discrete"})
    void strengthZeroKeepsTheInitLatent(String sampler, String scheduler) {
        InitImage init = InitImage.of(photo, 0.0).withEncoding(InitImage.Encoding.MEAN);
        double bound = 6 * Math.sqrt(1 - model().schedule().alphaCumprod(1));
        try (SafetensorsFile cf = Fixtures.open("sd1-tiny/cases/" + CASE + ".safetensors");
             GenerationResult r0 = new Generator(model()).generate(request(sampler, scheduler, init),
                     StepListener.NONE);
             GenerationResult r3 = new Generator(model()).generate(request(sampler, scheduler,
                     init.withStrength(0.3)), StepListener.NONE)) {
            Tensor initLatent = Tensors.read(cf, "init_latent");
            double d0 = Fixtures.maxAbsDiff(initLatent, r0.latents());
            double d3 = Fixtures.maxAbsDiff(initLatent, r3.latents());
            assertTrue(d0 < bound, sampler + ": strength 0 moved the latent by " + d0 + " >= " + bound);
            assertTrue(5 * d0 < d3, sampler + ": strength 0 moved it by " + d0 + ", strength 0.3 only by " + d3);
        }
    }

    /** Whatever the sampler and strength, the kept area of the result is the clean init latent (A1111 paste). */
    @ParameterizedTest(name = "{0} {1} strength {2}")
    @CsvSource({"euler, karras, 0.6", "euler_a, karras, 1.0", "dpm++2m, karras, 0.75", "plms, discrete, 0.5"})
    void maskedRunsKeepTheKnownArea(String sampler, String scheduler, double strength) {
        InitImage init = new InitImage(photo, mask, strength, InitImage.Encoding.MEAN, InitImage.Noising.COMPVIS);
        try (SafetensorsFile cf = Fixtures.open("sd1-tiny/cases/seeded_inpaint_blend_ddim_64x64.safetensors");
             PointerScope scope = new PointerScope();
             GenerationResult r = new Generator(model()).generate(request(sampler, scheduler, init),
                     StepListener.NONE)) {
            Tensor keep = Masks.keep(Tensors.read(cf, "latent_mask"));
            Tensor initLatent = Tensors.read(cf, "init_latent");
            assertClose(initLatent.mul(keep), r.latents().mul(keep), 1e-6, sampler + " kept area");
            Tensor repaint = Tensors.read(cf, "latent_mask");
            assertTrue(Fixtures.maxAbsDiff(initLatent.mul(repaint), r.latents().mul(repaint)) > 0.05,
                    sampler + ": the masked area was not repainted");
        }
    }

    @Test
    void batchesDrawOneNoiseForAllImages() {
        InitImage init = InitImage.of(photo, 0.5);
        GenerationRequest two = new GenerationRequest(PROMPT, "", 64, 64, 4, 7.5, "euler", "karras", 0, 5, 2, 0, init);
        try (GenerationResult r = new Generator(model()).generate(two, StepListener.NONE)) {
            assertEquals(2, r.latents().size(0));
            assertEquals(2, r.images().size(0));
            assertTrue(Fixtures.maxAbsDiff(r.latents().select(0, 0), r.latents().select(0, 1)) > 1e-3,
                    "the batch's images must differ");
        }
    }
}
