package dev.ldm4j.sampling;

import org.bytedeco.pytorch.Tensor;

/**
 * Latent Consistency Model sampling (Luo et al. 2023) as ComfyUI's sample_lcm and stable-diffusion.cpp run it:
 * each step jumps to the model's clean-latent prediction, then noises it afresh to the next level (one draw
 * per step but the last). For LCM-distilled models and LoRAs, with few steps and the lcm scheduler.
 */
final class LcmSampler extends SigmaSampler {
    LcmSampler() {
        super(SamplerKind.LCM);
    }

    @Override
    Run start(Denoiser denoiser, Sigmas plan, SeededNoise noise) {
        return (i, x) -> {
            Tensor denoised = denoiser.denoise(x, plan.get(i));
            float next = plan.get(i + 1);
            Tensor out = next > 0 ? denoised.add(randnLike(noise, x), dev.ldm4j.nn.Ops.s(next)) : denoised;
            return new StepResult(out, denoised);
        };
    }
}
