package dev.ldm4j.train;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The loss log of a run, one CSV row per step: {@code step,loss,lr,grad_norm,samples_per_s}. A resumed run
 * first drops the rows after the step it resumes from (steps done after the last checkpoint are done again),
 * so the file always describes one consistent run.
 */
public final class LossCsv implements TrainListener, AutoCloseable {
    static final String HEADER = "step,loss,lr,grad_norm,samples_per_s";

    private final Path path;
    private StepCsv out;

    public LossCsv(Path path) {
        this.path = path;
    }

    @Override
    public void onStart(long done, long total) {
        close();
        out = new StepCsv(path, HEADER, done);
    }

    @Override
    public void onStep(StepResult r) {
        out.row(String.format(Locale.ROOT, "%d,%.6g,%.6g,%.6g,%.3f", r.step(), r.loss(), r.learningRate(),
                r.gradNorm(), r.examplesPerSecond()));
    }

    @Override
    public void close() {
        if (out != null) {
            out.close();
            out = null;
        }
    }
}
