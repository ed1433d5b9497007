package dev.ldm4j.cli;

import dev.ldm4j.sampling.Step;
import dev.ldm4j.sampling.StepListener;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.bytedeco.pytorch.Tensor;

/**
 * Sampling progress on stderr: a live bar with seconds per step on a terminal, one line per step otherwise
 * (logs and CI keep every line readable instead of a run of carriage returns).
 */
final class Progress implements StepListener, AutoCloseable {
    private final PrintStream err;
    private final ProgressBar bar;
    private final long start = System.nanoTime();
    private final boolean reportStartup;

    /** @param reportStartup print, as the first step begins, how long after the process started that is */
    Progress(PrintStream err, int steps, boolean terminal, boolean reportStartup) {
        this.err = err;
        this.reportStartup = reportStartup;
        this.bar = terminal ? new ProgressBarBuilder().setTaskName("sampling").setInitialMax(steps)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200)
                .setConsumer(new ConsoleProgressBarConsumer(err)).build() : null;
    }

    @Override
    public Tensor beforeStep(int index, Tensor latent) {
        if (index == 0 && reportStartup) {
            // the launcher execs java, so the process start is the command's
            ProcessHandle.current().info().startInstant().ifPresent(t -> err.printf(Locale.ROOT,
                    "start-up: the first sampling step began %.2f s after the command started%n",
                    Duration.between(t, Instant.now()).toMillis() / 1e3));
        }
        return latent;
    }

    @Override
    public void afterStep(Step s) {
        double perStep = (System.nanoTime() - start) / 1e9 / (s.index() + 1);
        String rate = String.format(Locale.ROOT, "%.2f s/step", perStep);
        if (bar != null) {
            bar.stepTo(s.index() + 1);
            bar.setExtraMessage(rate);
        } else {
            err.printf(Locale.ROOT, "sampling step %d/%d, %s%n", s.index() + 1, s.count(), rate);
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
