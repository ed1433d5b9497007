package dev.ldm4j.train.vae;

import java.nio.file.Path;

/** Watches an {@link AutoencoderTrainingRun}; called on the training thread. */
public interface VaeTrainListener {
    VaeTrainListener NONE = new VaeTrainListener() {};

    /** Before the first step of this invocation; {@code done} steps were done before (resume). */
    default void onStart(long done, long total) {}

    /** After each step; {@code heldOutPsnr} is NaN unless the held-out set was evaluated after it. */
    default void onStep(VaeStepResult result, double heldOutPsnr) {}

    default void onCheckpoint(long step, Path model, Path config, Path state) {}
}
