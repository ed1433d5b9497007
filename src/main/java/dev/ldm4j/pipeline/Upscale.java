package dev.ldm4j.pipeline;

import static dev.ldm4j.nn.Ops.s;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.model.Conditioner;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.Denoiser;
import dev.ldm4j.sampling.ModelFn;
import dev.ldm4j.sampling.NoiseSchedule;
import dev.ldm4j.sampling.Plan;
import dev.ldm4j.sampling.Sampler;
import dev.ldm4j.sampling.Scheduler;
import dev.ldm4j.sampling.SeededNoise;
import dev.ldm4j.sampling.StepListener;
import dev.ldm4j.unet.Conditioning;
import java.util.Collections;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;

/**
 * Super-resolution with the x4 upscaler (Stability's LatentUpscaleDiffusion, as scripts/gradio/superresolution.py
 * runs it): the latent has the low-resolution image's size and the f = 4 VAE decodes it 4x larger. The UNet
 * sees the latent concatenated with the low-resolution image (u8 / 127.5 - 1) noised by the upscaler's own
 * schedule (linear 0.0001 .. 0.02, ImageConcatWithNoiseAugmentation) at the noise level, which is also its class
 * label; both guidance branches carry them, the negative one with the negative prompt's text.
 *
 * <p>Draws from the seed, in order: x_T [B, 4, h, w], the augmentation noise [B, 3, h, w], then the sampler's.
 * Inputs larger than {@link #TILE} pixels run the UNet in overlapping tiles ({@link LatentTiles}); the sampler
 * and its draws still cover the whole latent, and the decode is tiled as for any large image.
 */
final class Upscale {
    /** ImageConcatWithNoiseAugmentation's max_noise_level: its schedule is only used below it. */
    static final int MAX_NOISE_LEVEL = 350;
    /** The augmentation's own schedule (x4-upscaling.yaml's noise_schedule_config). */
    private static final NoiseSchedule AUGMENTATION = NoiseSchedule.linear(1000, 0.0001, 0.02);

    /**
     * Latent tiles of the UNet (latent pixels = input pixels here): a 128 x 128 tile is a 512 x 512 output, the
     * size the released model works at; 32 pixels of overlap blend the seams.
     */
    static final int TILE = 128;
    static final int TILE_OVERLAP = 32;

    private final LatentDiffusionModel model;
    private final Generator.Options options;

    Upscale(LatentDiffusionModel model, Generator.Options options) {
        this.model = model;
        this.options = options;
    }

    /** Checks the request: an input image, a noise level in range, sampler and scheduler names. */
    int validate(GenerationRequest r) {
        if (r.init() == null) {
            throw new BadRequestException("the x4 upscaler needs the low-resolution image to upscale (-i)");
        }
        if (r.init().mask() != null) {
            throw new BadRequestException("the x4 upscaler takes no mask");
        }
        int level = r.init().noiseLevel();
        if (level < 0 || level >= MAX_NOISE_LEVEL) {
            throw new BadRequestException("noise level must be in 0.." + (MAX_NOISE_LEVEL - 1) + ", got " + level);
        }
        return GuidedModel.sampler(r).plan(model.schedule(), Scheduler.byName(r.scheduler()), r.steps()).steps();
    }

    /** The low-resolution image noised to {@code level} by the augmentation schedule: sqrt(a) x + sqrt(1 - a) n. */
    static Tensor augment(Tensor lowRes, Tensor noise, int level) {
        double a = AUGMENTATION.alphaCumprod(level);
        return lowRes.mul(s((float) Math.sqrt(a))).add(noise, s((float) Math.sqrt(1 - a)));
    }

    /** [B, 3, h, w] float32: u8 / 127.5 - 1, as the reference script makes its input. */
    static Tensor lowRes(RgbImage image, int batch) {
        int plane = image.width() * image.height();
        byte[] px = image.pixels();
        float[] v = new float[plane * 3 * batch];
        for (int b = 0; b < batch; b++) {
            for (int p = 0; p < plane; p++) {
                for (int c = 0; c < 3; c++) {
                    v[b * plane * 3 + c * plane + p] = (float) ((px[p * 3 + c] & 0xff) / 127.5 - 1.0);
                }
            }
        }
        return Tensors.fromFloats(v, batch, 3, image.height(), image.width());
    }

    GenerationResult generate(GenerationRequest r, StepListener listener) {
        validate(r);
        int b = r.batchSize();
        int h = r.init().image().height();
        int w = r.init().image().width();
        try (PointerScope scope = new PointerScope();
             SeededNoise noise = new SeededNoise(r.seed());
             InferenceMode guard = new InferenceMode()) {
            Tensor xT = noise.randn(b, model.latentChannels(), h, w);
            Tensor aug = augment(lowRes(r.init().image(), b), noise.randn(b, 3, h, w), r.init().noiseLevel());
            float[] labels = new float[b];
            java.util.Arrays.fill(labels, r.init().noiseLevel());
            Tensor label = Tensors.fromFloats(labels, b);
            Conditioner conditioner = model.conditioner();
            Conditioning cond = conditioner.condition(Collections.nCopies(b, r.prompt()),
                    new Conditioner.Inputs(r.clipSkip(), aug, w, h, false)).withVector(label);
            Conditioning uncond = r.cfgScale() == 1.0 ? null : conditioner.condition(
                    Collections.nCopies(b, r.negativePrompt()), new Conditioner.Inputs(r.clipSkip(), aug, w, h, true))
                    .withVector(label);
            ModelFn fn = GuidedModel.guided(LatentTiles.tiled(model.unet()::forward, TILE, TILE_OVERLAP), cond, uncond,
                    r.cfgScale());
            Sampler sampler = GuidedModel.sampler(r);
            Plan plan = sampler.plan(model.schedule(), Scheduler.byName(r.scheduler()), r.steps());
            Denoiser denoiser = new Denoiser(fn, model.prediction(), model.schedule());
            Tensor z0 = sampler.sample(denoiser, plan, plan.initialLatent(xT), noise, listener);
            // the decoded image is 4x the latent (and the request's low-resolution size) each way
            Tensor images = model.decode(z0, dev.ldm4j.vae.TiledDecode.wanted(options.vaeTiling(), 16L * w * h));
            images.retainReference();
            z0.retainReference();
            return new GenerationResult(r, images, z0);
        }
    }
}
