package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import org.bytedeco.pytorch.Tensor;

/**
 * k-diffusion sample_dpmpp_2m: DPM-Solver++(2M) in lambda = -log sigma. The first step, and a step to sigma
 * 0, are first order; the others extrapolate the denoised prediction from the previous step's. No random
 * draws.
 */
final class DpmPp2mSampler extends SigmaSampler {
    DpmPp2mSampler() {
        super(SamplerKind.DPMPP_2M);
    }

    @Override
    Run start(Denoiser denoiser, Sigmas plan, SeededNoise noise) {
        return new Run() {
            private Tensor previous; // held: the denoised prediction of the step before

            @Override
            public StepResult step(int i, Tensor x) {
                double sigma = plan.get(i);
                double next = plan.get(i + 1);
                Tensor denoised = denoiser.denoise(x, plan.get(i));
                Tensor out;
                if (next == 0) {
                    // the limit of the update below as sigma_next -> 0
                    out = denoised;
                } else {
                    double h = Math.log(sigma) - Math.log(next);
                    Tensor target = denoised;
                    if (previous != null) {
                        double hLast = Math.log(plan.get(i - 1)) - Math.log(sigma);
                        double r = hLast / h;
                        target = denoised.mul(s(1 + 1 / (2 * r))).sub(previous, s(1 / (2 * r)));
                    }
                    out = x.mul(s(next / sigma)).sub(target, s(Math.expm1(-h)));
                }
                Handles.drop(previous);
                previous = Handles.hold(denoised);
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
