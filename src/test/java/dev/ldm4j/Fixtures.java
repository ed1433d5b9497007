package dev.ldm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.Tensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Assumptions;

/** Access to the golden fixtures in ../shared/fixtures and the comparisons the golden tests share. */
public final class Fixtures {
    private Fixtures() {}

    /** The fixtures folder; the calling test is skipped (with the reason) when it is absent. */
    public static Path root() {
        String prop = System.getProperty("ldm4j.fixtures");
        Path p = prop != null ? Path.of(prop) : Path.of("..", "shared", "fixtures");
        Assumptions.assumeTrue(Files.isDirectory(p),
                "golden fixtures not found at " + p.toAbsolutePath() + " (set -Dldm4j.fixtures)");
        return p;
    }

    public static Path path(String relative) {
        return root().resolve(relative);
    }

    public static JsonNode manifest(String folder) {
        try {
            return new ObjectMapper().readTree(path(folder).resolve("manifest.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The manifest entry of case {@code id} in {@code folder}. */
    public static JsonNode caseOf(String folder, String id) {
        for (JsonNode c : manifest(folder).get("cases")) {
            if (id.equals(c.path("id").asText())) {
                return c;
            }
        }
        throw new AssertionError("no case " + id + " in " + folder + "/manifest.json");
    }

    public static SafetensorsFile open(String relative) {
        return SafetensorsFile.open(path(relative));
    }

    /** The manifest's recommended max-abs tolerance for output {@code name} of case {@code id}. */
    public static double tolerance(String folder, String id, String name) {
        JsonNode t = caseOf(folder, id).path("tolerance").path("max_abs").path(name);
        if (t.isMissingNode()) {
            throw new AssertionError("no tolerance for " + name + " in case " + id);
        }
        return t.asDouble();
    }

    public static double maxAbsDiff(Tensor expected, Tensor actual) {
        float[] e = Tensors.toFloats(expected);
        float[] a = Tensors.toFloats(actual);
        double m = 0;
        for (int i = 0; i < e.length; i++) {
            double d = Math.abs((double) e[i] - a[i]);
            if (Double.isNaN(d)) {
                return Double.POSITIVE_INFINITY;
            }
            m = Math.max(m, d);
        }
        return m;
    }

    /** Fails unless shapes match and max|expected - actual| <= tol. */
    public static void assertClose(Tensor expected, Tensor actual, double tol, String what) {
        assertArrayEquals(Tensors.shape(expected), Tensors.shape(actual), what + ": shape");
        double d = maxAbsDiff(expected, actual);
        if (!(d <= tol)) {
            fail(what + ": max abs diff " + d + " > tolerance " + tol);
        }
    }
}
