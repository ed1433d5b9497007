package dev.ldm4j.train.vae;

import dev.ldm4j.train.StepCsv;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The loss log of an autoencoder run, one row per step; the adversarial columns and the held-out PSNR are
 * empty where they do not apply. A resumed run first drops the rows after the step it resumes from, so the
 * file describes one consistent run (as the diffusion trainer's {@code LossCsv} does).
 */
final class VaeLossCsv implements VaeTrainListener, AutoCloseable {
    static final String HEADER = "step,loss,rec,kl,g_loss,d_loss,disc_weight,lr,images_per_s,held_out_psnr";

    private final Path path;
    private StepCsv out;

    VaeLossCsv(Path path) {
        this.path = path;
    }

    @Override
    public void onStart(long done, long total) {
        close();
        out = new StepCsv(path, HEADER, done);
    }

    @Override
    public void onStep(VaeStepResult r, double psnr) {
        out.row(String.format(Locale.ROOT, "%d,%.6g,%.6g,%.6g,%s,%s,%s,%.6g,%.3f,%s", r.step(), r.loss(),
                r.reconstruction(), r.kl(), cell(r.generatorLoss()), cell(r.discLoss()), cell(r.discWeight()),
                r.learningRate(), r.examplesPerSecond(), cell(psnr)));
    }

    private static String cell(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
    }

    @Override
    public void close() {
        if (out != null) {
            out.close();
            out = null;
        }
    }
}
