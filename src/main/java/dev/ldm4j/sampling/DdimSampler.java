package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import org.bytedeco.pytorch.Tensor;

/**
 * CompVis DDIMSampler: x_prev = sqrt(a_prev) x0 + sqrt(1 - a_prev - sigma^2) eps + sigma z with
 * sigma = eta sqrt((1 - a_prev) / (1 - a) (1 - a / a_prev)). As in CompVis, z is drawn at every step even
 * when eta = 0 (the stream must advance the same way), and the last step goes to the level of timestep 0.
 */
final class DdimSampler extends TimestepSampler {
    private final double eta;

    DdimSampler(double eta) {
        super(SamplerKind.DDIM);
        if (!(eta >= 0)) {
            throw new IllegalArgumentException("eta must be >= 0, got " + eta);
        }
        this.eta = eta;
    }

    /** The DDIM noise scale sigma of a step from alphas_cumprod a to a_prev (float32, like CompVis's buffer). */
    static float sigma(double eta, float a, float aPrev) {
        double oneMinusA = 1f - a;
        return (float) (eta * Math.sqrt((1.0 - aPrev) / oneMinusA * (1.0 - (double) a / aPrev)));
    }

    @Override
    Run start(Denoiser denoiser, Timesteps plan, SeededNoise noise) {
        NoiseSchedule schedule = denoiser.schedule();
        return (i, x) -> {
            int t = plan.get(i);
            float aPrev = alphaPrev(schedule, plan, i);
            float sigma = sigma(eta, schedule.alphaCumprod(t), aPrev);
            Denoiser.Estimate e = denoiser.estimate(x, t);
            Tensor z = randnLike(noise, x);
            Tensor next = e.x0().mul(s(Math.sqrt(aPrev)))
                    .add(e.eps(), s(Math.sqrt(1.0 - aPrev - (double) sigma * sigma)));
            if (sigma > 0f) {
                next = next.add(z, s(sigma));
            }
            return new StepResult(next, e.x0());
        };
    }
}
