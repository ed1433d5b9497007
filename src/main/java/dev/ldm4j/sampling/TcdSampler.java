package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import org.bytedeco.pytorch.Tensor;

/**
 * Trajectory Consistency Distillation's strategic stochastic sampling (Zheng et al. 2024), diffusers'
 * TCDScheduler.step in k-diffusion's variables, as stable-diffusion.cpp runs it: from the model's x0 and eps
 * at sigma, the sample at the earlier timestep s = floor((1 - eta) * t_next), t_next the table timestep
 * nearest sigma_next; then, for eta > 0, fresh noise back up to sigma_next (one draw per step but the last).
 * The last step returns the sample at timestep s = 0. For TCD-distilled models and LoRAs, with the lcm
 * scheduler; eta (the paper's gamma) 0 is deterministic, its authors suggest 0.3.
 */
final class TcdSampler extends SigmaSampler {
    private final double eta;

    TcdSampler(double eta) {
        super(SamplerKind.TCD);
        if (!(eta >= 0 && eta <= 1)) {
            throw new IllegalArgumentException("tcd's eta must be in [0, 1], got " + eta);
        }
        this.eta = eta;
    }

    @Override
    Run start(Denoiser denoiser, Sigmas plan, SeededNoise noise) {
        NoiseSchedule schedule = denoiser.schedule();
        float[] table = schedule.sigmas();
        return (i, x) -> {
            float sigma = plan.get(i);
            float next = plan.get(i + 1);
            Tensor denoised = denoiser.denoise(x, sigma);
            Tensor eps = derivative(x, denoised, sigma);
            int s = (int) Math.floor((1 - eta) * (next == 0f ? 0 : nearest(table, next)));
            double alphaS = schedule.alphaCumprod(s);
            // x_s in DDPM's variables: sqrt(a_s) x0 + sqrt(1 - a_s) eps
            Tensor xs = denoised.mul(s(Math.sqrt(alphaS))).add(eps, s(Math.sqrt(1 - alphaS)));
            Tensor out;
            if (next == 0f) {
                out = xs;
            } else {
                double alphaNext = 1.0 / ((double) next * next + 1);
                out = eta > 0
                        ? xs.mul(s(1 / Math.sqrt(alphaS))).add(randnLike(noise, x),
                                s(Math.sqrt(Math.max(0, 1 / alphaNext - 1 / alphaS))))
                        : xs.mul(s(1 / Math.sqrt(alphaNext)));
            }
            return new StepResult(out, denoised);
        };
    }

    /** The timestep whose table sigma is nearest (table ascending in t). */
    static int nearest(float[] table, float sigma) {
        int lo = 0;
        int hi = table.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (table[mid] < sigma) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo > 0 && Math.abs(table[lo - 1] - sigma) <= Math.abs(table[lo] - sigma) ? lo - 1 : lo;
    }
}
