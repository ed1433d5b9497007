package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import org.bytedeco.pytorch.Tensor;

/**
 * k-diffusion sample_euler_ancestral (s_noise 1): an Euler step down to sigma_down, then fresh noise of
 * scale sigma_up, with sigma_up = min(sigma_next, eta sqrt(sigma_next^2 (sigma^2 - sigma_next^2) / sigma^2))
 * and sigma_down = sqrt(sigma_next^2 - sigma_up^2). No noise (and no draw) on a step to sigma 0.
 */
final class EulerAncestralSampler extends SigmaSampler {
    private final double eta;

    EulerAncestralSampler(double eta) {
        super(SamplerKind.EULER_A);
        this.eta = eta;
    }

    @Override
    Run start(Denoiser denoiser, Sigmas plan, SeededNoise noise) {
        return (i, x) -> {
            double sigma = plan.get(i);
            double next = plan.get(i + 1);
            Tensor denoised = denoiser.denoise(x, plan.get(i));
            double up = eta == 0 ? 0
                    : Math.min(next, eta * Math.sqrt(next * next * (sigma * sigma - next * next) / (sigma * sigma)));
            double down = Math.sqrt(next * next - up * up);
            Tensor d = derivative(x, denoised, plan.get(i));
            Tensor out = x.add(d, s(down - sigma));
            if (next > 0) {
                out = out.add(randnLike(noise, x), s(up));
            }
            return new StepResult(out, denoised);
        };
    }
}
