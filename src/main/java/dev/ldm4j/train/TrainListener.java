package dev.ldm4j.train;

import java.nio.file.Path;

/**
 * Watches a {@link TrainingRun}: progress display, loss logs, and (later) sample grids made from each
 * checkpoint with the generation pipeline. Called on the training thread; keep it quick.
 */
public interface TrainListener {
    TrainListener NONE = new TrainListener() {};

    /** Before the first step of this invocation; {@code done} steps were done by earlier ones (resume). */
    default void onStart(long done, long total) {}

    default void onStep(StepResult result) {}

    /** After a checkpoint was written: the exported model, its YAML config and the training state. */
    default void onCheckpoint(long step, Path model, Path config, Path state) {}

    /** Several listeners as one, called in order. */
    static TrainListener all(TrainListener... listeners) {
        return new TrainListener() {
            @Override
            public void onStart(long done, long total) {
                for (TrainListener l : listeners) {
                    l.onStart(done, total);
                }
            }

            @Override
            public void onStep(StepResult result) {
                for (TrainListener l : listeners) {
                    l.onStep(result);
                }
            }

            @Override
            public void onCheckpoint(long step, Path model, Path config, Path state) {
                for (TrainListener l : listeners) {
                    l.onCheckpoint(step, model, config, state);
                }
            }
        };
    }
}
