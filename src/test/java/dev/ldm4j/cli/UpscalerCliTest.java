package dev.ldm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.Images;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The x4 upscaler from the CLI: the output is 4x the input, and what a user gets wrong is one line, exit 2. */
class UpscalerCliTest {
    private static List<String> args(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("generate", "-m",
                Fixtures.path("sd-x4-upscaler-tiny/model.safetensors").toString(), "--config",
                Fixtures.path("sd-x4-upscaler-tiny/config.yaml").toString(), "-p", "a photo", "--steps", "2",
                "--sampling-method", "ddim", "-o", out.toString()));
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void theOutputIsFourTimesTheInput(@TempDir Path dir) {
        Path out = dir.resolve("big.png");
        CliTest.Run r = CliTest.cli(args(out, "-i", Fixtures.path("sd-x4-upscaler-tiny/lowres_32.png").toString(),
                "-W", "128", "-H", "128", "--noise-level", "50").toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertEquals(128, Images.readRgb(out).width());
        assertEquals(128, Images.readRgb(out).height());
    }

    /** An input above one latent tile (160 > 128 pixels) runs the UNet in tiles: a 640 x 640 output. */
    @Test
    void aLargeInputRunsInTiles(@TempDir Path dir) {
        dev.ldm4j.io.RgbImage small = Images.readRgb(Fixtures.path("sd-x4-upscaler-tiny/lowres_32.png"));
        byte[] px = new byte[160 * 160 * 3];
        for (int y = 0; y < 160; y++) {
            for (int x = 0; x < 160; x++) {
                System.arraycopy(small.pixels(), ((y / 5) * 32 + x / 5) * 3, px, (y * 160 + x) * 3, 3);
            }
        }
        Path in = dir.resolve("in160.png");
        Images.writePng(in, new dev.ldm4j.io.RgbImage(160, 160, px));
        Path out = dir.resolve("big.png");
        CliTest.Run r = CliTest.cli(args(out, "-i", in.toString()).toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertEquals(640, Images.readRgb(out).width());
        assertEquals(640, Images.readRgb(out).height());
    }

    @Test
    void mistakesAreOneLine(@TempDir Path dir) {
        String low = Fixtures.path("sd-x4-upscaler-tiny/lowres_32.png").toString();
        Path out = dir.resolve("x.png");
        for (List<String> bad : List.of(args(out), args(out, "-i", low, "-W", "64", "-H", "64"),
                args(out, "-i", low, "--noise-level", "350"), args(out, "--noise-level", "20"))) {
            CliTest.Run r = CliTest.cli(bad.toArray(String[]::new));
            assertEquals(2, r.code(), bad + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertFalse(Files.exists(out));
        }
        CliTest.Run other = CliTest.cli(CliTest.tinyArgs(dir.resolve("sd1.png"), "--steps", "1", "--noise-level", "20"));
        assertEquals(2, other.code(), other.err());
        assertTrue(other.err().contains("--noise-level"), other.err());
    }

    /**
     * An upscaler of another configuration (channel multipliers 1, 2, 2; attention at two levels, self-attention
     * only in the last; 2 heads; one res block), written with random weights by {@code bench --write-checkpoint},
     * upscales a non-square input to 4x its size, the same bytes twice.
     */
    @Test
    void anotherConfigurationAndANonSquareInput(@TempDir Path dir) throws Exception {
        String yaml = Files.readString(Fixtures.path("sd-x4-upscaler-tiny/config.yaml"))
                .replace("attention_resolutions: [2, 4, 8]", "attention_resolutions: [2, 4]")
                .replace("num_res_blocks: 2", "num_res_blocks: 1")
                .replace("channel_mult: [1, 1, 2, 2]", "channel_mult: [1, 2, 2]")
                .replace("disable_self_attentions: [true, true, true, false]",
                        "disable_self_attentions: [true, false, false]")
                .replace("num_heads: 4", "num_heads: 2");
        Path config = dir.resolve("x4-other.yaml");
        Files.writeString(config, yaml);
        Path model = dir.resolve("x4-other.safetensors");
        CliTest.Run w = CliTest.cli("bench", "--write-checkpoint", model.toString(), "--config", config.toString());
        assertEquals(0, w.code(), w.err());
        dev.ldm4j.io.RgbImage small = Images.readRgb(Fixtures.path("sd-x4-upscaler-tiny/lowres_32.png"));
        byte[] px = new byte[40 * 24 * 3];
        for (int y = 0; y < 24; y++) {
            System.arraycopy(small.pixels(), y * 32 * 3, px, y * 40 * 3, 32 * 3);
            System.arraycopy(small.pixels(), y * 32 * 3, px, (y * 40 + 32) * 3, 8 * 3);
        }
        Path in = dir.resolve("in40x24.png");
        Images.writePng(in, new dev.ldm4j.io.RgbImage(40, 24, px));
        List<byte[]> runs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Path out = dir.resolve("out" + i + ".png");
            CliTest.Run r = CliTest.cli("generate", "-m", model.toString(), "--config", config.toString(), "-p",
                    "a photo", "--steps", "2", "--sampling-method", "ddim", "-i", in.toString(), "-o", out.toString());
            assertEquals(0, r.code(), r.err());
            assertEquals(160, Images.readRgb(out).width());
            assertEquals(96, Images.readRgb(out).height());
            runs.add(Images.readRgb(out).pixels());
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(runs.get(0), runs.get(1));
    }
}
