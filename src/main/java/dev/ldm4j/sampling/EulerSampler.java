package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import org.bytedeco.pytorch.Tensor;

/**
 * k-diffusion sample_euler with s_churn = 0: x += (x - denoised) / sigma * (sigma_next - sigma). Like the
 * reference it draws randn_like(x) at the start of every step although no churn noise is added.
 */
final class EulerSampler extends SigmaSampler {
    EulerSampler() {
        super(SamplerKind.EULER);
    }

    @Override
    Run start(Denoiser denoiser, Sigmas plan, SeededNoise noise) {
        return (i, x) -> {
            float sigma = plan.get(i);
            randnLike(noise, x);
            Tensor denoised = denoiser.denoise(x, sigma);
            Tensor d = derivative(x, denoised, sigma);
            return new StepResult(x.add(d, s(plan.get(i + 1) - sigma)), denoised);
        };
    }
}
