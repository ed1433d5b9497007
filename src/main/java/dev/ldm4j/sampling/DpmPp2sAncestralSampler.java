package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import org.bytedeco.pytorch.Tensor;

/**
 * k-diffusion sample_dpmpp_2s_ancestral (eta 1, s_noise 1): a DPM-Solver++(2S) step in lambda = -log sigma down
 * to sigma_down (a second evaluation halfway, r = 1/2), then fresh noise of scale sigma_up where sigma_next > 0
 * ({@link Ancestral}); an Euler step where sigma_down is 0.
 */
final class DpmPp2sAncestralSampler extends SigmaSampler {
    DpmPp2sAncestralSampler() {
        super(SamplerKind.DPMPP_2S_A);
    }

    @Override
    Run start(Denoiser denoiser, Sigmas plan, SeededNoise noise) {
        return (i, x) -> {
            float sigma = plan.get(i);
            float next = plan.get(i + 1);
            Ancestral step = Ancestral.of(sigma, next, 1.0);
            Tensor denoised = denoiser.denoise(x, sigma);
            Tensor out;
            if (step.down() == 0f) {
                out = x.add(derivative(x, denoised, sigma), s(step.down() - sigma));
            } else {
                double t = -Math.log(sigma);
                double h = -Math.log(step.down()) - t;
                float sMid = (float) Math.exp(-(t + h / 2));
                Tensor x2 = x.mul(s(sMid / sigma)).sub(denoised, s(Math.expm1(-h / 2)));
                Tensor denoised2 = denoiser.denoise(x2, sMid);
                out = x.mul(s(step.down() / sigma)).sub(denoised2, s(Math.expm1(-h)));
            }
            if (next > 0f) {
                out = out.add(randnLike(noise, x), s(step.up()));
            }
            return new StepResult(out, denoised);
        };
    }
}
