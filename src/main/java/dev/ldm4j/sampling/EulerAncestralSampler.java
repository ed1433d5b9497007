package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import org.bytedeco.pytorch.Tensor;

/**
 * k-diffusion sample_euler_ancestral (s_noise 1): an Euler step down to sigma_down, then fresh noise of
 * scale sigma_up, with sigma_up = min(sigma_next, eta sqrt(sigma_next^2 (sigma^2 - sigma_next^2) / sigma^2))
 * and sigma_down = sqrt(sigma_next^2 - sigma_up^2). No noise (and no draw) on a step to sigma 0, nor at eta 0.
 *
 * <p>The same walk is DDIM with that eta (in k-diffusion's variables DDIM's noise scale is exactly sigma_up),
 * which is what stable-diffusion.cpp's {@code ddim_trailing} runs on the simple scheduler's trailing
 * timesteps.
 */
final class EulerAncestralSampler extends SigmaSampler {
    private final double eta;

    EulerAncestralSampler(double eta) {
        this(SamplerKind.EULER_A, eta);
    }

    EulerAncestralSampler(SamplerKind kind, double eta) {
        super(kind);
        if (!(eta >= 0)) {
            throw new IllegalArgumentException("eta must be >= 0, got " + eta);
        }
        this.eta = eta;
    }

    /** k-diffusion's ancestral split in double precision: {sigma_down, sigma_up}. */
    static double[] split(double sigma, double next, double eta) {
        double up = eta == 0 ? 0
                : Math.min(next, eta * Math.sqrt(next * next * (sigma * sigma - next * next) / (sigma * sigma)));
        return new double[] {Math.sqrt(next * next - up * up), up};
    }

    @Override
    Run start(Denoiser denoiser, Sigmas plan, SeededNoise noise) {
        return (i, x) -> {
            double sigma = plan.get(i);
            double next = plan.get(i + 1);
            Tensor denoised = denoiser.denoise(x, plan.get(i));
            double[] downUp = split(sigma, next, eta);
            double down = downUp[0];
            double up = downUp[1];
            Tensor d = derivative(x, denoised, plan.get(i));
            Tensor out = x.add(d, s(down - sigma));
            if (next > 0 && eta > 0) {
                out = out.add(randnLike(noise, x), s(up));
            }
            return new StepResult(out, denoised);
        };
    }
}
