package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import dev.ldm4j.nn.Ops;
import org.bytedeco.pytorch.Tensor;

/**
 * Classifier-free guidance on one doubled batch: the model sees [x, x] with conditioning [uncond, cond]
 * (uncond FIRST) and the guided output is u + scale * (c - u). Guiding the raw output is the same as guiding
 * the denoised prediction (k-diffusion's CFGDenoiser) because the conversion between them is linear.
 */
public final class Guidance {
    private Guidance() {}

    /**
     * A guided model from one that evaluates a doubled batch: {@code doubled} receives [x, x] and [t, t] and
     * must pair the first half with the unconditional and the second half with the conditional context.
     */
    public static GuidedModelFn cfg(ModelFn doubled, double scale) {
        return (x, t) -> {
            Tensor both = doubled.apply(twice(x), twice(t));
            return new GuidedModelFn.Branches(combine(both, scale), both.narrow(0, 0, both.size(0) / 2));
        };
    }

    /** cat([x, x]) along the batch dimension. */
    public static Tensor twice(Tensor x) {
        return Ops.cat(0, x, x);
    }

    /** u + scale * (c - u) for a batch [u, c] stacked along dimension 0. */
    public static Tensor combine(Tensor uncondThenCond, double scale) {
        long half = uncondThenCond.size(0) / 2;
        Tensor u = uncondThenCond.narrow(0, 0, half);
        Tensor c = uncondThenCond.narrow(0, half, half);
        return u.add(c.sub(u), s(scale));
    }
}
