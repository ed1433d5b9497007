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

    /**
     * The refiner takes over below its switch: at --refiner-switch 1 the base model runs every step and the
     * image is the base-only image bit for bit; at 0.5 the refiner runs the second half and changes it. A
     * refiner beside an SD 1.x model is refused.
     */
    @Test
    void theRefinerRunsTheLastPartOfTheSchedule(@TempDir Path dir) {
        Path refiner = dir.resolve("refiner.safetensors");
        dev.ldm4j.model.SdxlRefinerTest.writeRefiner(Fixtures.path("sdxl-tiny/model.safetensors"), refiner);
        String[] base = {"generate", "-m", Fixtures.path("sdxl-tiny/model.safetensors").toString(), "-p", "a fox",
            "--steps", "4", "-W", "64", "-H", "64", "-s", "3", "--sampling-method", "dpm++2m"};
        CliTest.Run alone = CliTest.cli(with(base, "-o", dir.resolve("alone.png").toString()));
        assertEquals(0, alone.code(), alone.err());
        CliTest.Run all = CliTest.cli(with(base, "-o", dir.resolve("all.png").toString(), "--refiner",
                refiner.toString(), "--refiner-switch", "1"));
        assertEquals(0, all.code(), all.err());
        CliTest.Run half = CliTest.cli(with(base, "-o", dir.resolve("half.png").toString(), "--refiner",
                refiner.toString(), "--refiner-switch", "0.5"));
        assertEquals(0, half.code(), half.err());
        byte[] plain = Images.readRgb(dir.resolve("alone.png")).pixels();
        assertTrue(Arrays.equals(plain, Images.readRgb(dir.resolve("all.png")).pixels()),
                "with the switch at 1 the refiner must not run");
        assertFalse(Arrays.equals(plain, Images.readRgb(dir.resolve("half.png")).pixels()), "the refiner changed nothing");
        CliTest.Run sd1 = CliTest.cli(CliTest.tinyArgs(dir.resolve("sd1.png"), "--steps", "1", "--refiner",
                refiner.toString()));
        assertEquals(2, sd1.code(), sd1.err());
        assertTrue(sd1.err().contains("SDXL"), sd1.err());
        CliTest.Run badSwitch = CliTest.cli(with(base, "-o", dir.resolve("bad.png").toString(), "--refiner",
                refiner.toString(), "--refiner-switch", "0"));
        assertEquals(2, badSwitch.code(), badSwitch.err());
    }

    /**
     * SDXL with a separate VAE file (bare encoder/decoder keys, as the fp16-fix VAE is distributed) decodes as
     * its own VAE does: the same PNG in fp32, and in fp16 a PNG within a few levels of it.
     */
    @Test
    void aSeparateVaeDecodesSdxlInFp32AndFp16(@TempDir Path dir) {
        Path vae = dir.resolve("sdxl-vae.safetensors");
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope();
             dev.ldm4j.io.SafetensorsFile f = dev.ldm4j.io.SafetensorsFile.open(Fixtures.path("sdxl-tiny/model.safetensors"))) {
            java.util.Map<String, org.bytedeco.pytorch.Tensor> t = new java.util.LinkedHashMap<>();
            for (String key : f.keys()) {
                if (key.startsWith("first_stage_model.")) {
                    t.put(key.substring("first_stage_model.".length()), dev.ldm4j.nn.Tensors.read(f, key));
                }
            }
            dev.ldm4j.nn.Tensors.write(vae, t);
        }
        String[] base = {"generate", "-m", Fixtures.path("sdxl-tiny/model.safetensors").toString(), "-p", "a fox",
            "--steps", "2", "-W", "64", "-H", "64", "-s", "3"};
        CliTest.Run own = CliTest.cli(with(base, "-o", dir.resolve("own.png").toString()));
        assertEquals(0, own.code(), own.err());
        CliTest.Run separate = CliTest.cli(with(base, "-o", dir.resolve("separate.png").toString(), "--vae",
                vae.toString()));
        assertEquals(0, separate.code(), separate.err());
        CliTest.Run half = CliTest.cli(with(base, "-o", dir.resolve("half.png").toString(), "--vae", vae.toString(),
                "--vae-precision", "fp16"));
        assertEquals(0, half.code(), half.err());
        byte[] expected = Images.readRgb(dir.resolve("own.png")).pixels();
        assertTrue(Arrays.equals(expected, Images.readRgb(dir.resolve("separate.png")).pixels()),
                "the separate VAE decoded differently");
        byte[] fp16 = Images.readRgb(dir.resolve("half.png")).pixels();
        int worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs((expected[i] & 0xff) - (fp16[i] & 0xff)));
        }
        assertTrue(worst <= 3, "fp16 VAE off by " + worst + " levels");
    }

    private static String[] with(String[] base, String... more) {
        String[] all = Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }
}
