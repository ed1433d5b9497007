package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import org.bytedeco.pytorch.Tensor;

/**
 * k-diffusion sample_dpmpp_3m_sde (eta 1, s_noise 1): DPM-Solver++(3M) SDE in lambda = -log sigma, third order
 * from the two previous denoised predictions (second order on the second step, first on the first), then
 * noise of scale sigma_next sqrt(1 - e^(-2 h)). Plain Gaussian noise per step, as {@link DpmPp2mSdeSampler}; a
 * step to sigma 0 returns the denoised prediction.
 */
final class DpmPp3mSdeSampler extends SigmaSampler {
    DpmPp3mSdeSampler() {
        super(SamplerKind.DPMPP_3M_SDE);
    }

    @Override
    Run start(Denoiser denoiser, Sigmas plan, SeededNoise noise) {
        return new Run() {
            private Tensor denoised1; // held: the denoised predictions of the last two steps
            private Tensor denoised2;
            private double h1 = Double.NaN;
            private double h2 = Double.NaN;

            @Override
            public StepResult step(int i, Tensor x) {
                float sigma = plan.get(i);
                float next = plan.get(i + 1);
                Tensor denoised = denoiser.denoise(x, sigma);
                Tensor out;
                double h = Double.NaN;
                if (next == 0f) {
                    out = denoised;
                } else {
                    h = Math.log(sigma) - Math.log(next);
                    double hEta = 2 * h; // eta 1
                    out = x.mul(s(Math.exp(-hEta))).add(denoised, s(-Math.expm1(-hEta)));
                    double phi2 = Math.expm1(-hEta) / hEta + 1;
                    if (!Double.isNaN(h2)) {
                        double r0 = h1 / h;
                        double r1 = h2 / h;
                        Tensor d10 = denoised.sub(denoised1).div(s(r0));
                        Tensor d11 = denoised1.sub(denoised2).div(s(r1));
                        Tensor d1 = d10.add(d10.sub(d11), s(r0 / (r0 + r1)));
                        Tensor d2 = d10.sub(d11).div(s(r0 + r1));
                        double phi3 = phi2 / hEta - 0.5;
                        out = out.add(d1, s(phi2)).sub(d2, s(phi3));
                    } else if (!Double.isNaN(h1)) {
                        out = out.add(denoised.sub(denoised1).div(s(h1 / h)), s(phi2));
                    }
                    out = out.add(randnLike(noise, x), s(next * Math.sqrt(-Math.expm1(-2 * h))));
                }
                Handles.drop(denoised2);
                denoised2 = denoised1;
                denoised1 = Handles.hold(denoised);
                h2 = h1;
                h1 = h;
                return new StepResult(out, denoised);
            }

            @Override
            public void close() {
                Handles.drop(denoised1);
                Handles.drop(denoised2);
                denoised1 = null;
                denoised2 = null;
            }
        };
    }
}
