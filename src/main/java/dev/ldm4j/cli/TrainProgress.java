package dev.ldm4j.cli;

import dev.ldm4j.train.StepResult;
import dev.ldm4j.train.TrainListener;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Training progress on stderr: a live bar with the loss and samples/s on a terminal; otherwise one line every
 * {@code every} steps with the mean loss and throughput of those steps (logs stay readable).
 */
final class TrainProgress implements TrainListener, AutoCloseable {
    private final PrintStream err;
    private final boolean terminal;
    private final int every;
    private ProgressBar bar;
    private long total;
    private double lossSum;
    private long examples;
    private int count;
    private long windowStart;

    TrainProgress(PrintStream err, boolean terminal, int every) {
        this.err = err;
        this.terminal = terminal;
        this.every = Math.max(1, every);
    }

    @Override
    public void onStart(long done, long total) {
        this.total = total;
        this.windowStart = System.nanoTime();
        if (terminal) {
            bar = new ProgressBarBuilder().setTaskName("training").setInitialMax(total).startsFrom(done,
                    java.time.Duration.ZERO).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500)
                    .setConsumer(new ConsoleProgressBarConsumer(err)).build();
        } else if (done > 0) {
            err.printf(Locale.ROOT, "resuming at step %d of %d%n", done, total);
        }
    }

    @Override
    public void onStep(StepResult r) {
        lossSum += r.loss();
        examples += r.examples();
        count++;
        boolean report = count >= every || r.step() == total;
        if (!report && !terminal) {
            return;
        }
        double seconds = (System.nanoTime() - windowStart) / 1e9;
        String msg = String.format(Locale.ROOT, "loss %.4f, %.1f samples/s, lr %.2e", lossSum / count,
                examples / seconds, r.learningRate());
        if (terminal) {
            bar.stepTo(r.step());
            bar.setExtraMessage(msg);
        } else {
            err.printf(Locale.ROOT, "step %d/%d: %s%n", r.step(), total, msg);
        }
        if (report) {
            lossSum = 0;
            examples = 0;
            count = 0;
            windowStart = System.nanoTime();
        }
    }

    @Override
    public void onCheckpoint(long step, Path model, Path config, Path state) {
        if (!terminal) {
            err.printf(Locale.ROOT, "step %d: saved %s%n", step, model);
        }
        // the save is not training time
        windowStart = System.nanoTime();
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
