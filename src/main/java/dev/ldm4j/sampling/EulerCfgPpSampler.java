package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import org.bytedeco.pytorch.Tensor;

/**
 * Euler with CFG++ (Chung et al. 2024), as ComfyUI's sample_euler_ancestral_cfg_pp / sample_euler_cfg_pp and
 * stable-diffusion.cpp run it for eps models: the step lands on the guided prediction and continues along the
 * unconditional direction, x' = denoised + sigma_down (x - uncond_denoised) / sigma, then (ancestral, eta 1)
 * fresh noise of scale sigma_up (k-diffusion's ancestral split; one draw per step but the last). CFG++ wants
 * a small guidance scale (about 1 to 2). Without guidance (scale 1) it is plain Euler.
 */
final class EulerCfgPpSampler extends SigmaSampler {
    private final double eta;

    EulerCfgPpSampler(SamplerKind kind, double eta) {
        super(kind);
        this.eta = eta;
    }

    @Override
    Run start(Denoiser denoiser, Sigmas plan, SeededNoise noise) {
        return (i, x) -> {
            double sigma = plan.get(i);
            double next = plan.get(i + 1);
            Denoiser.Branches b = denoiser.denoiseBoth(x, plan.get(i));
            double[] downUp = EulerAncestralSampler.split(sigma, next, eta);
            double down = downUp[0];
            double up = downUp[1];
            Tensor out = next == 0 ? b.denoised()
                    : b.denoised().add(derivative(x, b.unconditional(), plan.get(i)), s(down));
            if (next > 0 && eta > 0) {
                out = out.add(randnLike(noise, x), s(up));
            }
            return new StepResult(out, b.denoised());
        };
    }
}
