package dev.ldm4j.pipeline;

import dev.ldm4j.model.StableDiffusion;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.sampling.Guidance;
import dev.ldm4j.sampling.ModelFn;
import dev.ldm4j.sampling.Sampler;
import dev.ldm4j.sampling.Samplers;
import dev.ldm4j.unet.UNetModel;
import java.util.Collections;
import org.bytedeco.pytorch.Tensor;

/** What every pipeline runs: the request's sampler, and the UNet with its text conditioning and guidance. */
final class GuidedModel {
    private GuidedModel() {}

    /** The sampler a request names, with its eta (ddim only). */
    static Sampler sampler(GenerationRequest r) {
        Sampler s = Samplers.byName(r.sampler());
        if (r.eta() != 0) {
            if (!s.name().equals("ddim")) {
                throw new IllegalArgumentException("--eta applies to the ddim sampler only");
            }
            return Samplers.ddim(r.eta());
        }
        return s;
    }

    /**
     * The guided model of a request: prompt and negative prompt encoded once, one UNet call on the doubled batch
     * [uncond, cond] per evaluation (the conditional batch alone at cfg scale 1).
     *
     * @param concat null, or extra UNet input channels [B, c, h, w] appended to the latent (an inpainting model's
     *     mask and masked-image latent); both guidance branches see the same channels, as in the reference
     */
    static ModelFn of(StableDiffusion model, GenerationRequest r, Tensor concat) {
        UNetModel unet = model.unet();
        Tensor cond = model.encodePrompts(Collections.nCopies(r.batchSize(), r.prompt()), r.clipSkip());
        if (r.cfgScale() == 1.0) {
            // guidance at scale 1 is the conditional output alone: skip the unconditional half
            return (x, t) -> unet.forward(withConcat(x, concat), t, cond);
        }
        Tensor uncond = model.encodePrompts(Collections.nCopies(r.batchSize(), r.negativePrompt()), r.clipSkip());
        if (uncond.size(1) != cond.size(1)) {
            // prompt and negative prompt of different chunk counts: two UNet calls, as AUTOMATIC1111 does
            // by default, rather than padding one of them (which changes the image)
            return (x, t) -> {
                Tensor xc = withConcat(x, concat);
                Tensor u = unet.forward(xc, t, uncond);
                return u.add(unet.forward(xc, t, cond).sub(u), Ops.s(r.cfgScale()));
            };
        }
        Tensor context = Ops.cat(0, uncond, cond);
        Tensor doubledConcat = concat == null ? null : Guidance.twice(concat);
        return Guidance.cfg((x, t) -> unet.forward(withConcat(x, doubledConcat), t, context), r.cfgScale());
    }

    private static Tensor withConcat(Tensor x, Tensor concat) {
        return concat == null ? x : Ops.cat(1, x, concat);
    }
}
