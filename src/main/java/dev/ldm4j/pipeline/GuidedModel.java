package dev.ldm4j.pipeline;

import dev.ldm4j.model.Conditioner;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.sampling.Guidance;
import dev.ldm4j.sampling.GuidedModelFn;
import dev.ldm4j.sampling.ModelFn;
import dev.ldm4j.sampling.Sampler;
import dev.ldm4j.sampling.Samplers;
import dev.ldm4j.unet.Conditioning;
import java.util.Collections;
import org.bytedeco.pytorch.Tensor;

/** What every pipeline runs: the request's sampler, and the UNet with its text conditioning and guidance. */
final class GuidedModel {
    private GuidedModel() {}

    /** The sampler a request names, with its eta (ddim, ddim_trailing and tcd only). */
    static Sampler sampler(GenerationRequest r) {
        return Samplers.kind(r.sampler()).create(r.eta());
    }

    /**
     * The guided model of a request, handed to the options' refiner below its cutoff timestep (the refiner gets
     * no inpainting channels: SDXL refiners have none).
     */
    static ModelFn of(LatentDiffusionModel model, Generator.Options options, GenerationRequest r, Tensor concat) {
        ModelFn base = of(model, r, concat);
        Generator.Refiner refiner = options.refiner();
        if (refiner == null) {
            return base;
        }
        ModelFn second = of(refiner.model(), r, null);
        float cutoff = refiner.cutoff(model.schedule().size());
        // every timestep of a call is the same one, so the first decides (diffusers: timesteps >= cutoff)
        if (base instanceof GuidedModelFn b && second instanceof GuidedModelFn s) {
            return (GuidedModelFn) (x, t) -> t.select(0, 0).item_float() >= cutoff ? b.both(x, t) : s.both(x, t);
        }
        return (x, t) -> t.select(0, 0).item_float() >= cutoff ? base.apply(x, t) : second.apply(x, t);
    }

    /** The UNet as guidance sees it: the output for latents, timesteps and a conditioning. */
    @FunctionalInterface
    interface ConditionedModel {
        Tensor apply(Tensor x, Tensor t, Conditioning c);
    }

    /**
     * The guided model of a request: prompt and negative prompt encoded once (the negative one only when the
     * scale is not 1), with {@code concat} as both branches' extra input channels (an inpainting model's mask
     * and masked-image latent, as in the reference), or null.
     */
    static ModelFn of(LatentDiffusionModel model, GenerationRequest r, Tensor concat) {
        Conditioner conditioner = model.conditioner();
        Conditioning cond = conditioner.condition(Collections.nCopies(r.batchSize(), r.prompt()),
                new Conditioner.Inputs(r.clipSkip(), concat, r.width(), r.height(), false, r.sizes()));
        Conditioning uncond = r.cfgScale() == 1.0 ? null
                : conditioner.condition(Collections.nCopies(r.batchSize(), r.negativePrompt()),
                        new Conditioner.Inputs(r.clipSkip(), concat, r.width(), r.height(), true, r.sizes()));
        return guided(model.unet()::forward, cond, uncond, r.cfgScale());
    }

    /**
     * Classifier-free guidance u + scale * (c - u): one model call on the doubled batch [uncond, cond] per
     * evaluation; the conditional call alone at scale 1 ({@code uncond} may then be null); two calls where the
     * two conditionings cannot share a batch (prompt and negative prompt of different chunk counts, as
     * AUTOMATIC1111 does by default, rather than padding one of them, which changes the image).
     */
    static ModelFn guided(ConditionedModel model, Conditioning cond, Conditioning uncond, double scale) {
        if (scale == 1.0) {
            return (x, t) -> model.apply(x, t, cond);
        }
        if (!uncond.stacksWith(cond)) {
            return (GuidedModelFn) (x, t) -> {
                Tensor u = model.apply(x, t, uncond);
                return new GuidedModelFn.Branches(u.add(model.apply(x, t, cond).sub(u), Ops.s(scale)), u);
            };
        }
        Conditioning both = Conditioning.stack(uncond, cond);
        return Guidance.cfg((x, t) -> model.apply(x, t, both), scale);
    }
}
