package dev.ldm4j.train.vae;

import dev.ldm4j.data.Batches;
import dev.ldm4j.data.Dataset;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.DType;
import dev.ldm4j.io.OutputFileException;
import dev.ldm4j.nn.ImageTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An autoencoder run in a folder: steps the trainer through shuffled batches of the training split up to a
 * total step count (step k uses batch k of {@link Batches}, so a resumed run sees the batches an
 * uninterrupted one would), logs every step to {@code losses.csv}, measures the held-out PSNR every
 * {@code evalEvery} steps and at the end, and every {@code saveEvery} steps and at the end writes
 * {@code vae.safetensors} + {@code vae.yaml} and the training state {@code state.safetensors}.
 */
public final class AutoencoderTrainingRun {
    public static final String MODEL = "vae.safetensors";
    public static final String CONFIG = "vae.yaml";
    public static final String STATE = "state.safetensors";
    public static final String LOSSES = "losses.csv";

    private static final Logger LOG = LoggerFactory.getLogger(AutoencoderTrainingRun.class);

    /**
     * @param steps     total steps (a resumed run continues up to this)
     * @param saveEvery steps between checkpoints; 0 = only at the end
     * @param evalEvery steps between held-out PSNR measurements; 0 = only at the end
     * @param saveDType storage type of the exported autoencoder (the state is always float32)
     */
    public record Options(long steps, int saveEvery, int evalEvery, DType saveDType) {
        public Options {
            if (steps <= 0) {
                throw new BadRequestException("steps must be positive, got " + steps);
            }
            if (saveEvery < 0 || evalEvery < 0) {
                throw new BadRequestException("save and eval intervals must be >= 0");
            }
        }
    }

    private final AutoencoderTrainer trainer;
    private final Batches batches;
    private final Dataset heldOut;
    private final Path dir;
    private final Options options;
    private double lastPsnr = Double.NaN;

    /** @param heldOut the evaluation images (may be empty: then no PSNR is reported) */
    public AutoencoderTrainingRun(AutoencoderTrainer trainer, Dataset train, Dataset heldOut, Path dir,
                                  Options options) {
        trainer.spec().checkImageSize(train.imageSize());
        this.trainer = trainer;
        this.batches = train.batches(trainer.options().batchSize(), true, trainer.options().seed());
        this.heldOut = heldOut;
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

    /** The held-out PSNR of the last evaluation (NaN before one, or without held-out images). */
    public double lastPsnr() {
        return lastPsnr;
    }

    /** Trains from the trainer's current step up to {@link Options#steps()}. */
    public void run(VaeTrainListener listener) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new OutputFileException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        if (!Files.isWritable(dir)) {
            throw new OutputFileException("output folder " + dir + " is not writable", null);
        }
        long done = trainer.steps();
        if (done >= options.steps()) {
            LOG.info("the run in {} has done {} of {} steps: nothing to do", dir, done, options.steps());
            return;
        }
        if (heldOut == null || heldOut.size() == 0) {
            LOG.warn("no held-out images: the held-out PSNR is not reported");
        }
        try (VaeLossCsv csv = new VaeLossCsv(dir.resolve(LOSSES))) {
            csv.onStart(done, options.steps());
            listener.onStart(done, options.steps());
            while (trainer.steps() < options.steps()) {
                VaeStepResult r;
                try (PointerScope scope = new PointerScope()) {
                    r = trainer.step(batches.at(trainer.steps()).images());
                }
                boolean last = r.step() == options.steps();
                double psnr = Double.NaN;
                if (last || options.evalEvery() > 0 && r.step() % options.evalEvery() == 0) {
                    psnr = heldOutPsnr(trainer, heldOut, trainer.options().batchSize());
                    if (!Double.isNaN(psnr)) {
                        lastPsnr = psnr;
                        LOG.info("step {}: held-out PSNR {} dB", r.step(), String.format("%.2f", psnr));
                    }
                }
                csv.onStep(r, psnr);
                listener.onStep(r, psnr);
                if (last || options.saveEvery() > 0 && r.step() % options.saveEvery() == 0) {
                    save();
                    listener.onCheckpoint(r.step(), model(), config(), state());
                }
            }
        }
    }

    /** Writes the exported autoencoder, then the training state. */
    public void save() {
        AutoencoderState.export(model(), config(), trainer, options.saveDType());
        AutoencoderState.write(state(), trainer);
        LOG.info("step {}: saved {} and {}", trainer.steps(), model(), state());
    }

    /**
     * Mean PSNR (dB) of the reconstructions (posterior mode, float32) of every image of {@code data}, in batches;
     * NaN when {@code data} is null or empty.
     */
    public static double heldOutPsnr(AutoencoderTrainer trainer, Dataset data, int batchSize) {
        if (data == null || data.size() == 0) {
            return Double.NaN;
        }
        double sum = 0;
        for (int from = 0; from < data.size(); from += batchSize) {
            try (PointerScope scope = new PointerScope()) {
                List<Tensor> images = new ArrayList<>();
                for (int i = from; i < Math.min(from + batchSize, data.size()); i++) {
                    images.add(data.get(i).image());
                }
                Tensor x = torch.stack(new TensorVector(images.toArray(Tensor[]::new)));
                for (double p : ImageTensors.psnr(x, trainer.reconstruct(x))) {
                    sum += p;
                }
            }
        }
        return sum / data.size();
    }
}
