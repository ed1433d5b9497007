package dev.ldm4j.train;

import dev.ldm4j.io.OutputFileException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
    private BufferedWriter out;

    public LossCsv(Path path) {
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
            out = Files.newBufferedWriter(path, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new OutputFileException("cannot write " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void onStep(StepResult r) {
        try {
            out.write(String.format(Locale.ROOT, "%d,%.6g,%.6g,%.6g,%.3f%n", r.step(), r.loss(), r.learningRate(),
                    r.gradNorm(), r.examplesPerSecond()));
            out.flush();
        } catch (IOException e) {
            throw new OutputFileException("cannot write " + path + ": " + e.getMessage(), e);
        }
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
