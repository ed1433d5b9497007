package dev.ldm4j.train;

import dev.ldm4j.io.AtomicFiles;
import dev.ldm4j.io.OutputFileException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A per-step CSV log that survives resumes: opening it after {@code done} steps keeps the rows up to that step
 * and drops the later ones (steps done after the last checkpoint are done again), so the file always
 * describes one consistent run. Each row is flushed as it is written.
 */
public final class StepCsv implements AutoCloseable {
    private final Path path;
    private final BufferedWriter out;

    public StepCsv(Path path, String header, long done) {
        this.path = path;
        try {
            List<String> kept = new ArrayList<>();
            kept.add(header);
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
            AtomicFiles.writeString(path, String.join("\n", kept) + "\n");
            out = Files.newBufferedWriter(path, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw failure(e);
        }
    }

    /** Appends one row (without its line end). */
    public void row(String line) {
        try {
            out.write(line);
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw failure(e);
        }
    }

    private OutputFileException failure(IOException e) {
        return new OutputFileException("cannot write " + path + ": " + e.getMessage(), e);
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw failure(e);
        }
    }
}
