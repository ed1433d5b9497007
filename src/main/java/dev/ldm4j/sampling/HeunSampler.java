package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import org.bytedeco.pytorch.Tensor;

/**
 * k-diffusion sample_heun with s_churn = 0: an Euler step to sigma_next, a second evaluation there, and the
 * step again along the mean of the two derivatives; an Euler step when sigma_next = 0. 2 steps - 1 model
 * evaluations for a plan ending at 0; one unused randn_like(x) at the start of every step, like the reference.
 */
final class HeunSampler extends SigmaSampler {
    HeunSampler() {
        super(SamplerKind.HEUN);
    }

    @Override
    Run start(Denoiser denoiser, Sigmas plan, SeededNoise noise) {
        return (i, x) -> {
            float sigma = plan.get(i);
            float next = plan.get(i + 1);
            randnLike(noise, x);
            Tensor denoised = denoiser.denoise(x, sigma);
            Tensor d = derivative(x, denoised, sigma);
            float dt = next - sigma;
            if (next == 0f) {
                return new StepResult(x.add(d, s(dt)), denoised);
            }
            Tensor x2 = x.add(d, s(dt));
            Tensor d2 = derivative(x2, denoiser.denoise(x2, next), next);
            return new StepResult(x.add(d.add(d2).div(s(2)), s(dt)), denoised);
        };
    }
}
