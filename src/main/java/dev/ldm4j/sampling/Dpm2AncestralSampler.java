package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import org.bytedeco.pytorch.Tensor;

/**
 * k-diffusion sample_dpm_2_ancestral (eta 1, s_noise 1): a DPM-Solver-2 step down to sigma_down, then fresh
 * noise of scale sigma_up ({@link Ancestral}); an Euler step and no draw where sigma_down is 0.
 */
final class Dpm2AncestralSampler extends SigmaSampler {
    Dpm2AncestralSampler() {
        super(SamplerKind.DPM2_A);
    }

    @Override
    Run start(Denoiser denoiser, Sigmas plan, SeededNoise noise) {
        return (i, x) -> {
            float sigma = plan.get(i);
            Ancestral step = Ancestral.of(sigma, plan.get(i + 1), 1.0);
            Tensor denoised = denoiser.denoise(x, sigma);
            Tensor d = derivative(x, denoised, sigma);
            if (step.down() == 0f) {
                return new StepResult(x.add(d, s(step.down() - sigma)), denoised);
            }
            Tensor out = Dpm2Sampler.midpoint(denoiser, x, d, sigma, step.down());
            return new StepResult(out.add(randnLike(noise, x), s(step.up())), denoised);
        };
    }
}
