package dev.ldm4j.pipeline;

import dev.ldm4j.sampling.NoiseSchedule;
import dev.ldm4j.sampling.Plan;
import dev.ldm4j.sampling.Timesteps;
import org.bytedeco.pytorch.Tensor;

/**
 * Where an image-to-image run enters a sampler's plan: the step whose noise level the init latent is noised to,
 * and the step sampling starts from.
 *
 * @param noiseIndex the plan index of the noise level, {@link #PURE_NOISE} for x_T alone (strength 1), or
 *     {@code plan.steps()} for no noise at all
 * @param sampleFrom the first plan index that is sampled
 */
record StartPoint(int noiseIndex, int sampleFrom) {
    static final int PURE_NOISE = -1;

    /**
     * With t_enc = int(strength * steps) and k = plan steps - t_enc: CompVis timesteps are noised at index k - 1
     * and sampled from k (t_enc steps: the off-by-one of DDIMSampler.stochastic_encode + decode that
     * AUTOMATIC1111 keeps); A1111 / stable-diffusion.cpp k-diffusion noises and samples from k - 1 (t_enc + 1
     * steps); diffusers noises and samples from k. t_enc is at most plan steps - 1 below strength 1, as A1111's
     * 0.999 cap and stable-diffusion.cpp's t_enc-- make it.
     */
    static StartPoint of(Plan plan, int requestedSteps, double strength, InitImage.Noising noising) {
        if (strength >= 1.0) {
            return new StartPoint(PURE_NOISE, 0);
        }
        int n = plan.steps();
        return atTEnc(plan, Math.min((int) (strength * requestedSteps), n - 1), noising);
    }

    /**
     * The start of a run of t_enc steps (t_enc + 1 for the k-diffusion samplers), t_enc in 0..plan steps - 1:
     * what AUTOMATIC1111's "fixed steps" img2img of its hires fix asks for (t_enc = hires steps - 1).
     */
    static StartPoint atTEnc(Plan plan, int tEnc, InitImage.Noising noising) {
        int n = plan.steps();
        if (tEnc < 0 || tEnc > n - 1) {
            throw new IllegalArgumentException("t_enc " + tEnc + " outside 0.." + (n - 1));
        }
        int k = n - tEnc;
        if (noising == InitImage.Noising.DIFFUSERS) {
            return new StartPoint(k, k);
        }
        return plan instanceof Timesteps ? new StartPoint(k - 1, k) : new StartPoint(k - 1, k - 1);
    }

    boolean pureNoise() {
        return noiseIndex == PURE_NOISE;
    }

    /** The starting latent: x_T for pure noise, else the init latent noised with unit noise {@code noise}. */
    Tensor latent(Plan plan, NoiseSchedule schedule, Tensor initLatent, Tensor noise) {
        if (pureNoise()) {
            return plan.initialLatent(noise);
        }
        if (noiseIndex >= plan.steps()) {
            return initLatent;
        }
        return plan.addNoise(schedule, noiseIndex, initLatent, noise);
    }
}
