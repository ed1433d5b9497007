package dev.ldm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@org.junit.jupiter.api.Tag("golden")
class CliTest {
    private static final String PROMPT = "a photograph of an astronaut riding a horse";

    /** Exit code, standard error and standard output of one CLI run. */
    record Run(int code, String err, String out) {}

    static Run cli(String... args) {
        StringWriter sw = new StringWriter();
        StringWriter so = new StringWriter();
        int code = Main.run(new PrintWriter(so, true), new PrintWriter(sw, true), args);
        return new Run(code, sw.toString(), so.toString());
    }

    /** The README command writing to {@code out}, with some flags given other values (flag, value, ...). */
    static String[] tinyArgs(Path out, String... overrides) {
        List<String> a = new ArrayList<>(List.of("generate",
                "-m", Fixtures.path("sd1-tiny/model.safetensors").toString(),
                "--config", Fixtures.path("sd1-tiny/config.yaml").toString(),
                "-p", PROMPT, "-s", "42", "--steps", "10", "--sampling-method", "ddim", "--cfg-scale", "7.5",
                "-W", "64", "-H", "64", "-o", out.toString()));
        for (int i = 0; i < overrides.length; i += 2) {
            int at = a.indexOf(overrides[i]);
            if (at < 0) {
                a.add(overrides[i]);
                a.add(overrides[i + 1]);
            } else {
                a.set(at + 1, overrides[i + 1]);
            }
        }
        return a.toArray(String[]::new);
    }

    @Test
    void readmeCommandWritesTheGoldenImageWithA1111Parameters(@TempDir Path dir) {
        Path out = dir.resolve("out.png");
        Run r = cli(tinyArgs(out));
        assertEquals(0, r.code(), r.err());
        RgbImage mine = Images.readRgb(out);
        RgbImage golden = Images.readRgb(Fixtures.path("sd1-tiny/cases/seeded_ddim_64x64_0.png"));
        int levels = Fixtures.caseOf("sd1-tiny", "seeded_ddim_64x64").path("tolerance").path("png_max_abs_levels").asInt();
        int max = SeededCasesCliTest.levelsOff(mine, golden);
        assertTrue(max <= levels, "PNG differs from the golden image by " + max + " levels");
        String params = Images.readText(out).get("parameters");
        assertTrue(params.startsWith(PROMPT + "\nSteps: 10, Sampler: DDIM, Schedule type: Uniform, CFG scale: 7.5, "
                + "Seed: 42, Size: 64x64, Model: model"), params);
    }

    @Test
    void batchAndNonSquareSizesWriteNumberedFiles(@TempDir Path dir) {
        Path out = dir.resolve("img.png");
        Run r = cli(tinyArgs(out, "-b", "2", "-W", "48", "-H", "32", "--steps", "2", "--sampling-method", "euler_a"));
        assertEquals(0, r.code(), r.err());
        for (String name : List.of("img_1.png", "img_2.png")) {
            RgbImage img = Images.readRgb(dir.resolve(name));
            assertEquals(48, img.width());
            assertEquals(32, img.height());
        }
        assertFalse(Files.exists(out));
    }

    @Test
    void badInputGivesOneLineNonZeroExitAndNoFile(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("never.png");
        Path notSafetensors = dir.resolve("notes.safetensors");
        Files.writeString(notSafetensors, "this is not a model");
        String[][] cases = {
            {"-m", dir.resolve("missing.safetensors").toString()},
            {"-m", notSafetensors.toString()},
            {"-W", "60"},
            {"--steps", "0"},
            {"--sampling-method", "lms_karras"},
            {"--scheduler", "linear"},
            {"--cfg-scale", "NaN"},
            {"-o", dir.resolve("no/such/dir/x.png").toString()},
            {"-W", "8192", "-H", "8192"},
            {"--steps", "ten"},
            {"--device", "tpu"},
            {"--eta", "0.5", "--sampling-method", "euler"},
            {"--sampling-method", "ddim", "--scheduler", "karras"},
            {"--precision", "fp8"},
        };
        for (String[] c : cases) {
            Run r = cli(tinyArgs(out, c));
            assertEquals(2, r.code(), Arrays.toString(c) + " should fail with exit 2 (the user's mistake): " + r.err());
            assertTrue(r.err().startsWith("ldm4j: error: "), Arrays.toString(c) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), Arrays.toString(c) + ": " + r.err());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(notSafetensors), files.toList(), "no output or temporary file may be left");
        }
    }

    @Test
    void infoReportsArchitectureAndKeys() {
        StringWriter sw = new StringWriter();
        java.io.PrintStream old = System.out;
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(buf, true));
        int code;
        try {
            code = Main.run(new PrintWriter(sw, true), "info", "-m",
                    Fixtures.path("sd2-tiny/model.safetensors").toString(),
                    "--config", Fixtures.path("sd2-tiny/config.yaml").toString());
        } finally {
            System.setOut(old);
        }
        String report = buf.toString();
        assertEquals(0, code, sw.toString());
        assertTrue(report.contains("SD 2.x (sd2, v-prediction, penultimate text layer"), report);
        assertTrue(report.contains("missing keys: 0"), report);
        assertTrue(report.contains("mis-shaped keys: 0"), report);
        assertTrue(report.contains("F16"), report);
    }
}
