package dev.ldm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ldm4j.Fixtures;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every seeded case of the fixtures for the model families ldm4j runs, through the CLI from the case's params
 * alone: the PNGs match the golden ones within the manifest's levels, the same command twice in one process
 * gives the same pixels, and so do two more processes. The path tested is the one {@code ./ldm4j generate}
 * runs (inference mode, its precision and kernel choices). CI runs this class again with oneDNN capped at AVX2
 * and at SSE4.1 (pom.xml, executions isa-avx2 and isa-sse41).
 */
@Tag("golden")
class SeededCasesCliTest {
    /** The folders of the families ldm4j generates with. */
    static final List<String> FOLDERS = List.of("sd1-tiny", "sd1-tiny-inpaint", "sdxl-tiny", "lora",
            "sd-x4-upscaler-tiny");

    static Stream<String[]> cases() {
        List<String[]> out = new ArrayList<>();
        for (String folder : FOLDERS) {
            for (JsonNode c : Fixtures.manifest(folder).get("cases")) {
                if (c.path("id").asText().startsWith("seeded_")) {
                    out.add(new String[] {folder, c.path("id").asText()});
                }
            }
        }
        return out.stream();
    }

    /**
     * The CLI arguments of a case: its params in stable-diffusion.cpp's spellings, writing to {@code out}, plus
     * the fixture's choice of the posterior mean where its implied settings say so.
     */
    static List<String> args(String folder, String id, Path out) {
        List<String> a = paramsArgs(folder, id, out);
        if (Fixtures.caseOf(folder, id).path("implied_settings").path("vae_encoding").asText()
                .startsWith("posterior MEAN")) {
            a.addAll(List.of("--vae-encoding", "mean"));
        }
        return a;
    }

    /** The CLI arguments of a case's params alone (stable-diffusion.cpp's spellings), writing to {@code out}. */
    static List<String> paramsArgs(String folder, String id, Path out) {
        JsonNode p = Fixtures.caseOf(folder, id).path("params");
        List<String> a = new ArrayList<>(List.of("generate",
                "-m", Fixtures.path(folder + "/" + p.path("checkpoint").asText()).toString(),
                "--config", Fixtures.path(folder + "/" + p.path("config").asText()).toString(),
                "-p", p.path("prompt").asText() + (p.has("lora") ? " " + p.path("lora").asText() : ""),
                "-n", p.path("negative_prompt").asText(),
                "-s", p.path("seed").asText(), "--steps", p.path("steps").asText(),
                "--sampling-method", p.path("sampler").asText(), "--scheduler", p.path("scheduler").asText(),
                "--cfg-scale", p.path("cfg_scale").asText(), "-b", p.path("batch_size").asText("1"),
                "-o", out.toString()));
        if (p.has("init_img")) {
            a.addAll(List.of("-i", Fixtures.path(folder + "/" + p.path("init_img").asText()).toString()));
        } else {
            a.addAll(List.of("-W", p.path("width").asText(), "-H", p.path("height").asText()));
        }
        if (p.has("mask")) {
            a.addAll(List.of("--mask", Fixtures.path(folder + "/" + p.path("mask").asText()).toString()));
        }
        if (p.has("noise_level")) {
            a.addAll(List.of("--noise-level", p.path("noise_level").asText()));
        }
        if (p.has("strength")) {
            a.addAll(List.of("--strength", p.path("strength").asText()));
        }
        if (p.has("lora_model_dir")) {
            a.addAll(List.of("--lora-model-dir", Fixtures.path(folder + "/" + p.path("lora_model_dir").asText()).toString()));
        }
        if (p.has("clip_skip")) {
            a.addAll(List.of("--clip-skip", p.path("clip_skip").asText()));
        }
        return a;
    }

    static int levelsOff(RgbImage a, RgbImage b) {
        assertEquals(a.width(), b.width());
        assertEquals(a.height(), b.height());
        int max = 0;
        for (int i = 0; i < a.pixels().length; i++) {
            max = Math.max(max, Math.abs((a.pixels()[i] & 0xff) - (b.pixels()[i] & 0xff)));
        }
        return max;
    }

    static String run(List<String> args) {
        StringWriter err = new StringWriter();
        StringWriter out = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args.toArray(String[]::new));
        assertEquals(0, code, err.toString());
        return err.toString();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void matchesItsGoldenPngTwiceBitIdentical(String folder, String id, @TempDir Path dir) {
        int batch = Fixtures.caseOf(folder, id).path("params").path("batch_size").asInt(1);
        int levels = Fixtures.caseOf(folder, id).path("tolerance").path("png_max_abs_levels").asInt();
        Path first = dir.resolve("first.png");
        Path second = dir.resolve("second.png");
        String log = run(args(folder, id, first));
        run(args(folder, id, second));
        assertFalse(log.contains("NNPACK"), log);
        for (int b = 0; b < batch; b++) {
            String suffix = batch == 1 ? "" : "_" + (b + 1);
            RgbImage mine = Images.readRgb(dir.resolve("first" + suffix + ".png"));
            RgbImage again = Images.readRgb(dir.resolve("second" + suffix + ".png"));
            RgbImage golden = Images.readRgb(Fixtures.path(folder + "/cases/" + id + "_" + b + ".png"));
            int off = levelsOff(mine, golden);
            assertTrue(off <= levels, id + " image " + b + " is " + off + " levels off its golden PNG (allowed "
                    + levels + ")");
            assertArrayEquals(mine.pixels(), again.pixels(), id + ": the same command twice gave different pixels");
        }
    }

    /**
     * The same seeded inpainting request (the case that went from 16 to 255 levels off between two runs on a
     * CPU whose cache leaves oneDNN could not read) in two fresh JVMs: pixels identical to this process's.
     */
    @Test
    void twoProcessesGiveTheSamePixels(@TempDir Path dir) throws IOException, InterruptedException {
        String folder = "sd1-tiny-inpaint";
        String id = "seeded_inpaint_ddim_64x64";
        Path here = dir.resolve("here.png");
        run(args(folder, id, here));
        RgbImage mine = Images.readRgb(here);
        for (int i = 0; i < 2; i++) {
            Path out = dir.resolve("process" + i + ".png");
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), Main.class.getName()));
            cmd.addAll(args(folder, id, out));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] log = p.getInputStream().readAllBytes();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child JVM did not finish");
            assertEquals(0, p.exitValue(), new String(log, StandardCharsets.UTF_8));
            assertFalse(new String(log, StandardCharsets.UTF_8).contains("NNPACK"), "native warnings in the log");
            assertArrayEquals(mine.pixels(), Images.readRgb(out).pixels(), "process " + i + " gave other pixels");
        }
    }
}
