package dev.ldm4j.sampling;

import org.bytedeco.pytorch.Tensor;

/**
 * One finished sampler step, for progress reporting and previews. The tensors belong to the step's
 * {@code PointerScope} and are released after the callback returns: copy what you keep.
 *
 * @param index    0-based step of this run
 * @param count    steps in this run
 * @param latent   the latent after the step
 * @param denoised the model's clean-latent prediction of the step (pred_x0 / k-diffusion "denoised")
 */
public record Step(int index, int count, Tensor latent, Tensor denoised) {}
