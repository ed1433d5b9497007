package dev.ldm4j.pipeline;

import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.Denoiser;
import dev.ldm4j.sampling.ModelFn;
import dev.ldm4j.sampling.Plan;
import dev.ldm4j.sampling.Sampler;
import dev.ldm4j.sampling.Scheduler;
import dev.ldm4j.sampling.SeededNoise;
import dev.ldm4j.sampling.StepListener;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Text-to-image: prompt and negative prompt to conditioning, x_T from the seed, a sampler with
 * classifier-free guidance on one [uncond, cond] batch, then the autoencoder's decoder. An inpainting model
 * gets AUTOMATIC1111's text-to-image conditioning: a mask of ones and the latent of an all-grey (0) image, by the
 * posterior mean, so that the seed's stream is that of any other model.
 */
final class TextToImage {
    private final LatentDiffusionModel model;
    private final Generator.Options options;

    TextToImage(LatentDiffusionModel model, Generator.Options options) {
        this.model = model;
        this.options = options;
    }

    /** Checks what can be checked before any work: size, sampler and scheduler names; the number of steps. */
    int validate(GenerationRequest r) {
        if (r.init() != null) {
            throw new IllegalArgumentException("a request with an init image is image-to-image");
        }
        int f = model.downscaleFactor();
        if (r.width() % f != 0 || r.height() % f != 0) {
            throw new dev.ldm4j.io.BadRequestException("width and height must be multiples of " + f + ", got "
                    + r.width() + "x" + r.height());
        }
        // some schedules give another number of steps than asked (ddim_uniform, beta; CompVis DDIM at 30 steps)
        return GuidedModel.sampler(r).plan(model.schedule(), Scheduler.byName(r.scheduler()), r.steps()).steps();
    }

    GenerationResult generate(GenerationRequest r, StepListener listener) {
        validate(r);
        int f = model.downscaleFactor();
        try (PointerScope scope = new PointerScope();
             SeededNoise noise = new SeededNoise(r.seed())) {
            // x_T is the first draw of the seed's stream: the reproducibility contract
            Tensor xT = noise.randn(r.batchSize(), model.latentChannels(), r.height() / f, r.width() / f);
            return generate(r, xT, noise, listener);
        }
    }

    /**
     * As {@link #generate(GenerationRequest, StepListener)} from a given x_T [B, 4, h, w] (unit Gaussian),
     * with the sampler's later draws taken from {@code noise}; the request's seed and size are not used.
     */
    GenerationResult generate(GenerationRequest r, Tensor xT, SeededNoise noise, StepListener listener) {
        Sampler sampler = GuidedModel.sampler(r);
        Plan plan = sampler.plan(model.schedule(), Scheduler.byName(r.scheduler()), r.steps());
        try (InferenceMode guard = new InferenceMode();
             PointerScope scope = new PointerScope()) {
            ModelFn fn = GuidedModel.of(model, options, r, model.config().inpainting() ? fullMask(model, xT) : null);
            Denoiser denoiser = new Denoiser(fn, model.prediction(), model.schedule());
            Tensor z0 = sampler.sample(denoiser, plan, plan.initialLatent(xT), noise, listener);
            Tensor images = model.decode(z0, options.tiled(r));
            images.retainReference();
            z0.retainReference();
            return new GenerationResult(r, images, z0);
        }
    }

    /** An inpainting model's conditioning for repainting everything: mask of ones, latent of a grey image. */
    static Tensor fullMask(LatentDiffusionModel model, Tensor xT) {
        int f = model.downscaleFactor();
        int b = (int) xT.size(0);
        long h = xT.size(2);
        long w = xT.size(3);
        Tensor grey = torch.zeros(new long[] {1, 3, h * f, w * f}, Tensors.options(ScalarType.Float));
        Tensor latent = LatentEncoder.encode(model, grey, b, InitImage.Encoding.MEAN, null);
        return Masks.conditioning(Masks.toLatent(Masks.everywhere(h * f, w * f), b, h, w), latent);
    }
}
