package dev.ldm4j.train;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A training run in a folder: steps the trainer through the data up to a total step count, logs every step
 * to {@code losses.csv}, and every {@code saveEvery} steps (and at the end) writes the exported model
 * ({@code model.safetensors} + {@code model.yaml}) and the training state ({@code state.safetensors}) that
 * {@code --resume} continues from.
 */
public final class TrainingRun {
    public static final String MODEL = "model.safetensors";
    public static final String CONFIG = "model.yaml";
    public static final String STATE = "state.safetensors";
    public static final String LOSSES = "losses.csv";

    private static final Logger LOG = LoggerFactory.getLogger(TrainingRun.class);

    /**
     * @param steps     total steps of the run (a resumed run continues up to this)
     * @param saveEvery steps between checkpoints; 0 = only at the end
     * @param saveDType storage type of the exported model (the state is always float32)
     * @param imageSize the training image size, written to the exported YAML as {@code ldm4j.image_size} (the
     *                  size {@code generate} then defaults to); 0 = not recorded
     */
    public record Options(long steps, int saveEvery, DType saveDType, int imageSize) {
        public Options(long steps, int saveEvery, DType saveDType) {
            this(steps, saveEvery, saveDType, 0);
        }

        public Options {
            if (steps <= 0) {
                throw new BadRequestException("steps must be positive, got " + steps);
            }
            if (saveEvery < 0) {
                throw new BadRequestException("save interval must be >= 0, got " + saveEvery);
            }
        }
    }

    private final DiffusionTrainer trainer;
    private final TrainingData data;
    private final Path dir;
    private final Options options;

    public TrainingRun(DiffusionTrainer trainer, TrainingData data, Path dir, Options options) {
        this.trainer = trainer;
        this.data = data;
        this.dir = dir;
        this.options = options;
    }

    public Path model() {
        return dir.resolve(MODEL);
    }

    public Path config() {
        return dir.resolve(CONFIG);
    }

    public Path state() {
        return dir.resolve(STATE);
    }

    /** Trains from the trainer's current step up to {@link Options#steps()}. */
    public void run(TrainListener listener) {
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new dev.ldm4j.io.OutputFileException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        long done = trainer.steps();
        if (done >= options.steps()) {
            LOG.info("the run in {} has done {} of {} steps: nothing to do", dir, done, options.steps());
            return;
        }
        try (LossCsv csv = new LossCsv(dir.resolve(LOSSES))) {
            TrainListener all = TrainListener.all(csv, new LossCurve(dir), listener);
            all.onStart(done, options.steps());
            while (trainer.steps() < options.steps()) {
                StepResult r;
                // the batch's tensors are freed with the step, not at some later GC
                try (PointerScope scope = new PointerScope()) {
                    r = trainer.step(data.batch(trainer.steps(), trainer.config().batchSize()));
                }
                all.onStep(r);
                boolean last = r.step() == options.steps();
                if (last || options.saveEvery() > 0 && r.step() % options.saveEvery() == 0) {
                    save();
                    all.onCheckpoint(r.step(), model(), config(), state());
                }
            }
        }
    }

    /** Writes the exported model (then its state), as at a checkpoint. */
    public void save() {
        SdCheckpoint.write(model(), config(), trainer, options.saveDType(), options.imageSize());
        TrainingState.write(state(), trainer);
        LOG.debug("step {}: saved {} and {}", trainer.steps(), model(), state());
    }
}
