package dev.ldm4j.sampling;

import java.util.function.Consumer;
import org.bytedeco.pytorch.Tensor;

/** Hooks into a sampler run: observe each step, and optionally replace the latent before it. */
public interface StepListener {
    StepListener NONE = new StepListener() {};

    /**
     * Called at the start of step {@code index}, before the sampler's own random draws and model evaluations
     * of that step; the returned tensor is the latent the step works on (masked blending with a normal model
     * replaces the known area here). The default keeps the latent.
     */
    default Tensor beforeStep(int index, Tensor latent) {
        return latent;
    }

    /** Called after each step. */
    default void afterStep(Step step) {}

    /** A listener that only observes finished steps. */
    static StepListener onStep(Consumer<Step> consumer) {
        return new StepListener() {
            @Override
            public void afterStep(Step step) {
                consumer.accept(step);
            }
        };
    }
}
