package dev.ldm4j.train.vae;

import dev.ldm4j.io.OutputFileException;
import dev.ldm4j.train.AtomicText;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The loss log of an autoencoder run, one row per step; the adversarial columns and the held-out PSNR are
 * empty where they do not apply. A resumed run first drops the rows after the step it resumes from, so the
 * file describes one consistent run (as the diffusion trainer's {@code LossCsv} does).
 */
final class VaeLossCsv implements VaeTrainListener, AutoCloseable {
    static final String HEADER = "step,loss,rec,kl,g_loss,d_loss,disc_weight,lr,images_per_s,held_out_psnr";

    private final Path path;
    private BufferedWriter out;

    VaeLossCsv(Path path) {
        this.path = path;
    }

    @Override
    public void onStart(long done, long total) {
        try {
            List<String> kept = new ArrayList<>();
            kept.add(HEADER);
            if (done > 0 && Files.exists(path)) {
                for (String line : Files.readAllLines(path, StandardCharsets.UTF_8)) {
                    int comma = line.indexOf(',');
                    if (comma > 0 && !line.startsWith("step,")) {
                        try {
                            if (Long.parseLong(line.substring(0, comma)) <= done) {
                                kept.add(line);
                            }
                        } catch (NumberFormatException ignored) {
                            // not a data row
                        }
                    }
                }
            }
            AtomicText.write(path, String.join("\n", kept) + "\n");
            out = Files.newBufferedWriter(path, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new OutputFileException("cannot write " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void onStep(VaeStepResult r, double psnr) {
        try {
            out.write(String.format(Locale.ROOT, "%d,%.6g,%.6g,%.6g,%s,%s,%s,%.6g,%.3f,%s%n", r.step(), r.loss(),
                    r.reconstruction(), r.kl(), cell(r.generatorLoss()), cell(r.discLoss()), cell(r.discWeight()),
                    r.learningRate(), r.examplesPerSecond(), cell(psnr)));
            out.flush();
        } catch (IOException e) {
            throw new OutputFileException("cannot write " + path + ": " + e.getMessage(), e);
        }
    }

    private static String cell(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
    }

    @Override
    public void close() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException e) {
                throw new OutputFileException("cannot write " + path + ": " + e.getMessage(), e);
            }
        }
    }
}
