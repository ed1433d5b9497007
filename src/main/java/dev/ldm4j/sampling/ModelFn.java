package dev.ldm4j.sampling;

import org.bytedeco.pytorch.Tensor;

/**
 * The diffusion model as the samplers see it: the raw output (eps or v, see {@link Prediction}) for a batch of
 * latents {@code x} [B, C, h, w] at timesteps {@code t} (float32 [B] on x's device; fractional for the
 * k-diffusion samplers). Classifier-free guidance, conditioning and extra input channels live inside the
 * function (see {@link Guidance#cfg}).
 *
 * <p>The samplers call it inside a per-step {@code PointerScope}: tensors it creates there are released
 * when the step ends, so it must not cache them.
 */
@FunctionalInterface
public interface ModelFn {
    Tensor apply(Tensor x, Tensor t);
}
