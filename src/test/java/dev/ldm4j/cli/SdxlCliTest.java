package dev.ldm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.Images;
import dev.ldm4j.model.Conditioner;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SDXL's size conditioning flags. */
class SdxlCliTest {
    @Test
    void sizeFlagsMapToSgmsOrder() {
        assertNull(GenerateCommand.sizes(null, null, null, 64, 96));
        // the conditioner fixture's sizes: original (h 128, w 96), crop (top 0, left 16), target 64x64
        assertEquals(new Conditioner.Sizes(128, 96, 0, 16, 64, 64),
                GenerateCommand.sizes("96x128", "16,0", "64x64", 64, 64));
        assertEquals(new Conditioner.Sizes(96, 64, 0, 0, 96, 64), GenerateCommand.sizes(null, "0,0", null, 64, 96));
    }

    @Test
    void theFlagsChangeAnSdxlImageAndAreRefusedForOtherModels(@TempDir Path dir) {
        String[] base = {"generate", "-m", Fixtures.path("sdxl-tiny/model.safetensors").toString(), "-p", "a fox",
            "--steps", "2", "-W", "64", "-H", "64", "-s", "3"};
        CliTest.Run plain = CliTest.cli(with(base, "-o", dir.resolve("plain.png").toString()));
        assertEquals(0, plain.code(), plain.err());
        CliTest.Run cropped = CliTest.cli(with(base, "-o", dir.resolve("cropped.png").toString(),
                "--original-size", "96x128", "--crop", "16,0"));
        assertEquals(0, cropped.code(), cropped.err());
        assertFalse(Arrays.equals(Images.readRgb(dir.resolve("plain.png")).pixels(),
                Images.readRgb(dir.resolve("cropped.png")).pixels()), "the size conditioning changed nothing");
        CliTest.Run sd1 = CliTest.cli(CliTest.tinyArgs(dir.resolve("sd1.png"), "--steps", "1", "--crop", "0,8"));
        assertEquals(2, sd1.code(), sd1.err());
        assertTrue(sd1.err().contains("SDXL"), sd1.err());
        CliTest.Run bad = CliTest.cli(with(base, "-o", dir.resolve("bad.png").toString(), "--target-size", "64"));
        assertEquals(2, bad.code(), bad.err());
    }

    private static String[] with(String[] base, String... more) {
        String[] all = Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }
}
