package dev.ldm4j.pipeline;

import dev.ldm4j.model.StableDiffusion;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.sampling.Denoiser;
import dev.ldm4j.sampling.Guidance;
import dev.ldm4j.sampling.ModelFn;
import dev.ldm4j.sampling.Plan;
import dev.ldm4j.sampling.Sampler;
import dev.ldm4j.sampling.Samplers;
import dev.ldm4j.sampling.Scheduler;
import dev.ldm4j.sampling.SeededNoise;
import dev.ldm4j.sampling.StepListener;
import dev.ldm4j.unet.UNetModel;
import java.util.Collections;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;

/**
 * Text-to-image: prompt and negative prompt to conditioning, x_T from the seed, a sampler with
 * classifier-free guidance on one [uncond, cond] batch, then the autoencoder's decoder.
 */
public final class TextToImage {
    private final StableDiffusion model;

    public TextToImage(StableDiffusion model) {
        this.model = model;
    }

    /** Checks what can be checked before any work: size, sampler and scheduler names. */
    public void validate(GenerationRequest r) {
        int f = model.downscaleFactor();
        if (r.width() % f != 0 || r.height() % f != 0) {
            throw new IllegalArgumentException("width and height must be multiples of " + f + ", got "
                    + r.width() + "x" + r.height());
        }
        sampler(r).plan(model.schedule(), Scheduler.byName(r.scheduler()), r.steps());
    }

    private static Sampler sampler(GenerationRequest r) {
        Sampler s = Samplers.byName(r.sampler());
        if (r.eta() != 0) {
            if (!s.name().equals("ddim")) {
                throw new IllegalArgumentException("--eta applies to the ddim sampler only");
            }
            return Samplers.ddim(r.eta());
        }
        return s;
    }

    public GenerationResult generate(GenerationRequest r, StepListener listener) {
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
    public GenerationResult generate(GenerationRequest r, Tensor xT, SeededNoise noise, StepListener listener) {
        Sampler sampler = sampler(r);
        Plan plan = sampler.plan(model.schedule(), Scheduler.byName(r.scheduler()), r.steps());
        try (InferenceMode guard = new InferenceMode();
             PointerScope scope = new PointerScope()) {
            ModelFn fn = guidedModel(r);
            Denoiser denoiser = new Denoiser(fn, model.prediction(), model.schedule());
            Tensor z0 = sampler.sample(denoiser, plan, plan.initialLatent(xT), noise, listener);
            Tensor images = model.decode(z0);
            images.retainReference();
            z0.retainReference();
            return new GenerationResult(r, images, z0);
        }
    }

    private ModelFn guidedModel(GenerationRequest r) {
        UNetModel unet = model.unet();
        Tensor cond = model.encodePrompts(Collections.nCopies(r.batchSize(), r.prompt()), r.clipSkip());
        if (r.cfgScale() == 1.0) {
            // guidance at scale 1 is the conditional output alone: skip the unconditional half
            return (x, t) -> unet.forward(x, t, cond);
        }
        Tensor uncond = model.encodePrompts(Collections.nCopies(r.batchSize(), r.negativePrompt()), r.clipSkip());
        if (uncond.size(1) != cond.size(1)) {
            // prompt and negative prompt of different chunk counts: two UNet calls, as AUTOMATIC1111 does
            // by default, rather than padding one of them (which changes the image)
            return (x, t) -> {
                Tensor u = unet.forward(x, t, uncond);
                return u.add(unet.forward(x, t, cond).sub(u), Ops.s(r.cfgScale()));
            };
        }
        Tensor context = Ops.cat(0, uncond, cond);
        return Guidance.cfg((x, t) -> unet.forward(x, t, context), r.cfgScale());
    }
}
