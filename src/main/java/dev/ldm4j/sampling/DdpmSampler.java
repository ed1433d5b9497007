package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import org.bytedeco.pytorch.Tensor;

/**
 * Ancestral DDPM sampling (Ho et al. 2020, CompVis DDPM.p_sample with the "fixed_small" posterior variance)
 * on the uniform DDIM timesteps instead of all of them. A step from timestep t to the next visited timestep
 * s samples the forward process's posterior q(x_s | x_t, x0) with alphas_cumprod a_t, a_s:
 * <pre>
 *   beta = 1 - a_t / a_s
 *   mean = sqrt(a_s) beta / (1 - a_t) x0 + sqrt(a_t / a_s) (1 - a_s) / (1 - a_t) x_t
 *   var  = beta (1 - a_s) / (1 - a_t)
 * </pre>
 * and the last step goes to a_s = 1, which returns x0 without noise. With every timestep visited this is
 * CompVis's p_sample_loop (without clipping x0). Between two visited timesteps the posterior equals a DDIM
 * step with eta = 1; what differs from "ddim" at eta 1 is the end point (clean x0 here, the noise level of
 * timestep 0 with fresh noise there) and the draws: one randn per step except the last (steps - 1 draws).
 */
final class DdpmSampler extends TimestepSampler {
    DdpmSampler() {
        super(SamplerKind.DDPM);
    }

    @Override
    Run start(Denoiser denoiser, Timesteps plan, SeededNoise noise) {
        NoiseSchedule schedule = denoiser.schedule();
        return (i, x) -> {
            int t = plan.get(i);
            boolean last = i + 1 == plan.steps();
            double at = schedule.alphaCumprod(t);
            double as = last ? 1.0 : schedule.alphaCumprod(plan.get(i + 1));
            double beta = 1.0 - at / as;
            Tensor x0 = denoiser.estimate(x, t).x0();
            Tensor next = x0.mul(s(Math.sqrt(as) * beta / (1.0 - at)))
                    .add(x, s(Math.sqrt(at / as) * (1.0 - as) / (1.0 - at)));
            if (!last) {
                double std = Math.sqrt(beta * (1.0 - as) / (1.0 - at));
                next = next.add(randnLike(noise, x), s(std));
            }
            return new StepResult(next, x0);
        };
    }
}
