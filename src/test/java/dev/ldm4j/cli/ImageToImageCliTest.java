package dev.ldm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.GrayImage;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code ldm4j generate -i / --mask / --strength}: the reference runs from their params, and bad input. */
@org.junit.jupiter.api.Tag("golden")
class ImageToImageCliTest {
    record Run(int code, String err) {}

    static Run cli(List<String> args) {
        StringWriter sw = new StringWriter();
        int code = Main.run(new PrintWriter(sw, true), args.toArray(String[]::new));
        return new Run(code, sw.toString());
    }

    /** The command line of a manifest case's params (sd.cpp spellings), writing to {@code out}. */
    static List<String> caseArgs(String folder, String id, Path out) {
        return SeededCasesCliTest.paramsArgs(folder, id, out);
    }

    /**
     * Each case from its params alone (no -W/-H: the size comes from the init image), plus the fixture's choice
     * of posterior mean where the case made it; the default, a posterior sample, is what the _sample cases ran.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "sd1-tiny, seeded_img2img_ddim_64x64, mean, 'Denoising strength: 0.6, VAE encoding: mean'",
        "sd1-tiny, seeded_img2img_ddim_sample_64x64, , 'Denoising strength: 0.6, Version'",
        "sd1-tiny, seeded_inpaint_blend_ddim_64x64, mean, 'Denoising strength: 1, VAE encoding: mean'",
        "sd1-tiny-inpaint, seeded_inpaint_ddim_64x64, mean, 'Denoising strength: 1, VAE encoding: mean'",
        "sd1-tiny-inpaint, seeded_inpaint_ddim_sample_64x64, , 'Denoising strength: 1, Version'"
    })
    void referenceRunsFromTheCommandLine(String folder, String id, String encoding, String params,
                                         @TempDir Path dir) {
        Path out = dir.resolve("out.png");
        List<String> args = caseArgs(folder, id, out);
        if (encoding != null) {
            args.addAll(List.of("--vae-encoding", encoding));
        }
        Run r = cli(args);
        assertEquals(0, r.code(), r.err());
        RgbImage mine = Images.readRgb(out);
        RgbImage golden = Images.readRgb(Fixtures.path(folder + "/cases/" + id + "_0.png"));
        int levels = Fixtures.caseOf(folder, id).path("tolerance").path("png_max_abs_levels").asInt();
        int max = SeededCasesCliTest.levelsOff(mine, golden);
        assertTrue(max <= levels, id + ": PNG differs from the golden image by " + max + " levels");
        String text = Images.readText(out).get("parameters");
        assertTrue(text.contains("Size: 64x64, Model: model, " + params), text);
    }

    @Test
    void badImageInputGivesOneLineExitTwoAndNoFile(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("never.png");
        Path notImage = dir.resolve("notes.png");
        Files.writeString(notImage, "not a png");
        Path smallMask = dir.resolve("small_mask.png");
        Images.writePng(smallMask, new GrayImage(32, 32, new byte[32 * 32]));
        Path odd = dir.resolve("odd.png");
        Images.writePng(odd, new RgbImage(60, 60, new byte[60 * 60 * 3]));
        String photo = Fixtures.path("sd1-tiny/photo_64.png").toString();
        String mask = Fixtures.path("sd1-tiny/mask_64.png").toString();
        List<Path> before;
        try (Stream<Path> files = Files.list(dir)) {
            before = files.sorted().toList();
        }
        String[][] cases = {
            {"-i", photo, "--strength", "1.5"},
            {"-i", photo, "--strength", "-0.1"},
            {"-i", photo, "--strength", "NaN"},
            {"-i", dir.resolve("missing.png").toString()},
            {"-i", notImage.toString()},
            {"-i", photo, "--mask", notImage.toString()},
            {"-i", photo, "--mask", smallMask.toString()},
            {"-i", photo, "-W", "128"},
            {"-i", odd.toString()},
            {"-i", photo, "--vae-encoding", "median"},
            {"-i", photo, "--img2img-noising", "a1111"},
            {"--mask", mask},
            {"--strength", "0.5"},
            {"--vae-encoding", "mean"},
        };
        for (String[] c : cases) {
            List<String> args = new ArrayList<>(List.of("generate",
                    "-m", Fixtures.path("sd1-tiny/model.safetensors").toString(),
                    "--config", Fixtures.path("sd1-tiny/config.yaml").toString(),
                    "-p", "a lake", "--steps", "2", "--sampling-method", "euler", "-o", out.toString()));
            args.addAll(Arrays.asList(c));
            Run r = cli(args);
            assertEquals(2, r.code(), Arrays.toString(c) + " should fail with exit 2: " + r.err());
            assertTrue(r.err().startsWith("ldm4j: error: "), Arrays.toString(c) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), Arrays.toString(c) + ": " + r.err());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(before, files.sorted().toList(), "no output or temporary file may be left");
        }
    }

    @Test
    void strengthErrorsNameTheFlagAndRange(@TempDir Path dir) {
        List<String> args = new ArrayList<>(List.of("generate",
                "-m", Fixtures.path("sd1-tiny/model.safetensors").toString(), "-p", "a lake",
                "-i", Fixtures.path("sd1-tiny/photo_64.png").toString(), "--strength", "2",
                "-o", dir.resolve("x.png").toString()));
        Run r = cli(args);
        assertEquals("ldm4j: error: --strength must be in [0, 1], got 2.0", r.err().strip());
    }
}
