package dev.ldm4j.sampling;

import org.bytedeco.pytorch.Tensor;

/**
 * A diffusion sampler. Stateless and thread-safe; all randomness comes from the {@link SeededNoise} passed to
 * {@link #sample}, drawn in the reference sampler's order.
 *
 * <pre>{@code
 * Sampler sampler = Samplers.byName("euler_a");
 * Plan plan = sampler.plan(schedule, Scheduler.byName("karras"), steps);
 * Tensor xT = noise.randn(batch, 4, h, w);                      // drawn first, from the same stream
 * Tensor z0 = sampler.sample(denoiser, plan, plan.initialLatent(xT), noise, listener);
 * }</pre>
 */
public interface Sampler {
    /** The stable-diffusion.cpp CLI name. */
    String name();

    /**
     * The noise levels of a run of {@code steps} steps.
     *
     * @throws dev.ldm4j.io.BadRequestException when this sampler does not support the scheduler
     */
    Plan plan(NoiseSchedule schedule, Scheduler scheduler, int steps);

    /**
     * Denoises latent {@code x}, which is at the noise level of the plan's first step, through all steps of
     * the plan. The result is a new tensor; {@code x} is left as it is.
     *
     * @throws IllegalArgumentException when the plan is not of this sampler's kind
     */
    Tensor sample(Denoiser denoiser, Plan plan, Tensor x, SeededNoise noise, StepListener listener);

    default Tensor sample(Denoiser denoiser, Plan plan, Tensor x, SeededNoise noise) {
        return sample(denoiser, plan, x, noise, StepListener.NONE);
    }
}
