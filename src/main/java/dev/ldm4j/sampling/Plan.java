package dev.ldm4j.sampling;

import org.bytedeco.pytorch.Tensor;

/**
 * The noise levels a sampler walks, highest first: DDPM timesteps for the CompVis samplers ({@link Timesteps}),
 * k-diffusion noise levels for the others ({@link Sigmas}). Made by {@link Sampler#plan}.
 *
 * <p>img2img starts part-way: noise the clean latent with {@link #addNoise} at some index and sample
 * {@link #from} an index. CompVis/AUTOMATIC1111 DDIM img2img noises at index {@code k - 1} and samples from
 * {@code k} (k = steps - t_enc); diffusers noises and samples from the same index.
 */
public sealed interface Plan permits Timesteps, Sigmas {
    /** Number of sampler steps (model evaluations differ by sampler). */
    int steps();

    /** The plan of the steps from {@code start} on ({@code start == steps()} gives an empty plan). */
    Plan from(int start);

    /** The starting latent of text-to-image sampling from unit Gaussian noise x_T. */
    Tensor initialLatent(Tensor unitNoise);

    /** {@code x0} noised with unit noise {@code noise} to the level of step {@code index}. */
    Tensor addNoise(NoiseSchedule schedule, int index, Tensor x0, Tensor noise);
}
