package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import org.bytedeco.pytorch.Tensor;

/**
 * k-diffusion sample_dpmpp_2m_sde (eta 1, s_noise 1, midpoint solver): DPM-Solver++(2M) SDE in lambda = -log
 * sigma, second order from the previous step's denoised prediction, then noise of scale sigma_next
 * sqrt(1 - e^(-2 h)). The noise is a plain Gaussian per step (one randn_like(x) on every step to sigma_next >
 * 0), as stable-diffusion.cpp and ComfyUI's CPU noise do, not k-diffusion's default Brownian tree. A step to
 * sigma 0 returns the denoised prediction.
 */
final class DpmPp2mSdeSampler extends SigmaSampler {
    DpmPp2mSdeSampler() {
        super(SamplerKind.DPMPP_2M_SDE);
    }

    @Override
    Run start(Denoiser denoiser, Sigmas plan, SeededNoise noise) {
        return new Run() {
            private Tensor previous; // held: the denoised prediction of the step before
            private double hLast;

            @Override
            public StepResult step(int i, Tensor x) {
                float sigma = plan.get(i);
                float next = plan.get(i + 1);
                Tensor denoised = denoiser.denoise(x, sigma);
                Tensor out;
                double h = 0;
                if (next == 0f) {
                    out = denoised;
                } else {
                    h = Math.log(sigma) - Math.log(next);
                    // eta 1: eta_h = h
                    out = x.mul(s(next / sigma * Math.exp(-h))).add(denoised, s(-Math.expm1(-2 * h)));
                    if (previous != null) {
                        double r = hLast / h;
                        out = out.add(denoised.sub(previous), s(0.5 * -Math.expm1(-2 * h) / r));
                    }
                    out = out.add(randnLike(noise, x), s(next * Math.sqrt(-Math.expm1(-2 * h))));
                }
                Handles.drop(previous);
                previous = Handles.hold(denoised);
                hLast = h;
                return new StepResult(out, denoised);
            }

            @Override
            public void close() {
                Handles.drop(previous);
                previous = null;
            }
        };
    }
}
