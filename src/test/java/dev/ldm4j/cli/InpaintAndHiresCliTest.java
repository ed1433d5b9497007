package dev.ldm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** generate's --outpaint, inpainting and --hires-* flags on the tiny model: sizes, infotext and refusals. */
class InpaintAndHiresCliTest {
    @TempDir
    Path dir;

    /** The tiny model's command at 2 steps and -W/-H {@code size}, with {@code extra} flags appended. */
    private String[] args(int w, int h, String... extra) {
        List<String> a = new ArrayList<>(List.of(CliTest.tinyArgs(dir.resolve("out.png"), "--steps", "2",
                "-W", String.valueOf(w), "-H", String.valueOf(h))));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void outpaintWritesTheGrownImageWithA1111Fields() throws IOException {
        CliTest.Run r = CliTest.cli(args(88, 72, "-i", Fixtures.path("sd1-tiny/photo_64.png").toString(),
                "--outpaint", "8,0,16,8", "--mask-blur", "2"));
        assertEquals(0, r.code(), r.err());
        RgbImage out = Images.readRgb(dir.resolve("out.png"));
        assertEquals(88, out.width());
        assertEquals(72, out.height());
        String params = Images.readText(dir.resolve("out.png")).get("parameters");
        assertTrue(params.contains("Size: 88x72") && params.contains("Denoising strength: 1")
                && params.contains("Mask blur: 2, Masked content: fill"), params);
    }

    @Test
    void hiresWritesTheLargerImage() throws IOException {
        CliTest.Run r = CliTest.cli(args(32, 32, "--hires-scale", "1.5", "--hires-steps", "1"));
        assertEquals(0, r.code(), r.err());
        assertEquals(48, Images.readRgb(dir.resolve("out.png")).width());
        String params = Images.readText(dir.resolve("out.png")).get("parameters");
        assertTrue(params.contains("Size: 32x32") && params.contains("Hires upscale: 1.5")
                && params.contains("Hires steps: 1, Hires upscaler: Latent"), params);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "-i INIT --outpaint 7,0,0,0|multiples of 8",
        "-i INIT --outpaint 8,8|LEFT,TOP,RIGHT,BOTTOM",
        "--mask-blur 3|needs an init image",
        "-i INIT --mask MASK --masked-content smudge|masked content",
        "--hires-scale 2 --hires-upscaler x4|--hires-upscale-model",
        "--hires-denoise 0|denoising strength",
        "--hires-upscaler ESRGAN|unknown upscaler",
        "--hires-scale 2 -i INIT|text-to-image only",
        "-i INIT --invert-mask|need --mask",
        "-i INIT --outpaint 8,0,0,0 --mask MASK|makes its own mask"})
    void badFlagsAreRefusedInOneLine(String flags, String mention) throws IOException {
        List<String> a = new ArrayList<>();
        for (String f : flags.split(" ")) {
            a.add(f.equals("INIT") ? Fixtures.path("sd1-tiny/photo_64.png").toString()
                    : f.equals("MASK") ? Fixtures.path("sd1-tiny/mask_64.png").toString() : f);
        }
        CliTest.Run r = CliTest.cli(args(64, 64, a.toArray(String[]::new)));
        assertEquals(2, r.code(), r.err());
        List<String> lines = r.err().strip().lines().toList();
        assertEquals(1, lines.size(), r.err());
        assertTrue(lines.get(0).contains(mention), lines.get(0) + " should name " + mention);
        assertFalse(Files.exists(dir.resolve("out.png")));
    }
}
