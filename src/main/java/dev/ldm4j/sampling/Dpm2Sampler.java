package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import org.bytedeco.pytorch.Tensor;

/**
 * k-diffusion sample_dpm_2 (s_churn 0): DPM-Solver-2, a midpoint step in log sigma (the derivative at the
 * geometric mean of sigma and sigma_next carries the whole step); an Euler step to sigma 0. 2 steps - 1 model
 * evaluations; one unused randn_like(x) at the start of every step, like the reference.
 */
final class Dpm2Sampler extends SigmaSampler {
    Dpm2Sampler() {
        super(SamplerKind.DPM2);
    }

    @Override
    Run start(Denoiser denoiser, Sigmas plan, SeededNoise noise) {
        return (i, x) -> {
            float sigma = plan.get(i);
            float next = plan.get(i + 1);
            randnLike(noise, x);
            Tensor denoised = denoiser.denoise(x, sigma);
            Tensor d = derivative(x, denoised, sigma);
            if (next == 0f) {
                return new StepResult(x.add(d, s(next - sigma)), denoised);
            }
            return new StepResult(midpoint(denoiser, x, d, sigma, next), denoised);
        };
    }

    /** The DPM-Solver-2 step from sigma to {@code to} along the derivative at their log-midpoint. */
    static Tensor midpoint(Denoiser denoiser, Tensor x, Tensor d, float sigma, float to) {
        float mid = (float) Math.exp((Math.log(sigma) + Math.log(to)) / 2);
        Tensor x2 = x.add(d, s(mid - sigma));
        Tensor d2 = derivative(x2, denoiser.denoise(x2, mid), mid);
        return x.add(d2, s(to - sigma));
    }
}
