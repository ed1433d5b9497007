package dev.ldm4j.pipeline;

import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.NoiseSchedule;
import dev.ldm4j.sampling.Plan;
import dev.ldm4j.sampling.SeededNoise;
import dev.ldm4j.sampling.Step;
import dev.ldm4j.sampling.StepListener;
import org.bytedeco.pytorch.Tensor;

/**
 * Inpainting with a normal (4-channel) model, as CompVis DDIMSampler's mask / x0 arguments do it: before every
 * step the known area is replaced by the init latent noised to that step's level with fresh noise,
 * x = keep * addNoise(init, level, noise) + (1 - keep) * x. For the k-diffusion samplers the level is the step's
 * sigma (init + sigma * noise). The fresh noise is drawn before the sampler's own draws of the step.
 */
final class MaskBlend implements StepListener {
    private final StepListener inner;
    private final Plan plan;
    private final NoiseSchedule schedule;
    private final Tensor initLatent;
    private final Tensor keep;
    private final Tensor repaint;
    private final SeededNoise noise;

    /**
     * @param plan  the plan the sampler walks (indices are its steps)
     * @param keep  [B, 1, h, w], 1 where the init latent is kept
     */
    MaskBlend(StepListener inner, Plan plan, NoiseSchedule schedule, Tensor initLatent, Tensor keep,
              SeededNoise noise) {
        this.inner = inner;
        this.plan = plan;
        this.schedule = schedule;
        this.initLatent = initLatent;
        this.keep = keep;
        this.repaint = Masks.keep(keep);
        this.noise = noise;
    }

    @Override
    public Tensor beforeStep(int index, Tensor latent) {
        Tensor known = plan.addNoise(schedule, index, initLatent, noise.randn(Tensors.shape(latent)));
        return inner.beforeStep(index, known.mul(keep).add(latent.mul(repaint)));
    }

    @Override
    public void afterStep(Step step) {
        inner.afterStep(step);
    }

    /** AUTOMATIC1111's final paste of the clean known area: keep * init + (1 - keep) * sampled. */
    Tensor paste(Tensor sampled) {
        return initLatent.mul(keep).add(sampled.mul(repaint));
    }
}
