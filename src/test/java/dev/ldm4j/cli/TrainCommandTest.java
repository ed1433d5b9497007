package dev.ldm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.train.TrainingRun;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {
    @TempDir
    Path tmp;

    private static Path tinyConfig() throws URISyntaxException {
        return Path.of(TrainCommandTest.class.getResource("/dev/ldm4j/train/tiny-ldm.yaml").toURI());
    }

    /** {@code n} square images (a coloured block on white) with captions; one image has no caption file. */
    private Path dataset(int n, int size) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("data"));
        String[] names = {"red", "blue", "green"};
        int[][] rgb = {{255, 0, 0}, {0, 0, 255}, {0, 255, 0}};
        for (int i = 0; i < n; i++) {
            byte[] px = new byte[size * size * 3];
            Arrays.fill(px, (byte) 255);
            for (int y = i; y < i + size / 2; y++) {
                for (int x = 0; x < size / 2; x++) {
                    for (int c = 0; c < 3; c++) {
                        px[(y * size + x) * 3 + c] = (byte) rgb[i % 3][c];
                    }
                }
            }
            Images.writePng(dir.resolve(String.format("img%02d.png", i)), new RgbImage(size, size, px));
            if (i != n - 1) {
                Files.writeString(dir.resolve(String.format("img%02d.txt", i)), "a " + names[i % 3] + " block\n");
            }
        }
        return dir;
    }

    private static CliTest.Run train(Path data, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--data", data.toString(), "-o", out.toString(),
                "-b", "2", "--lr", "1e-3", "--warmup-steps", "2", "--log-every", "1", "-s", "3"));
        a.addAll(List.of(more));
        return CliTest.cli(a.toArray(String[]::new));
    }

    @Test
    void trainsFromScratchResumesAndTheModelGenerates() throws Exception {
        Path data = dataset(5, 16);
        Path run = tmp.resolve("run");
        CliTest.Run first = train(data, run, "--config", tinyConfig().toString(), "--steps", "4", "--save-every", "2",
                "--cache-latents", "--scale-by-std");
        assertEquals(0, first.code(), first.err());
        for (String f : List.of(TrainingRun.MODEL, TrainingRun.CONFIG, TrainingRun.STATE, TrainingRun.LOSSES)) {
            assertTrue(Files.isRegularFile(run.resolve(f)), f);
        }
        List<String> csv = Files.readAllLines(run.resolve(TrainingRun.LOSSES));
        assertEquals(5, csv.size(), "header + 4 steps: " + csv);
        assertTrue(csv.get(0).startsWith("step,loss"));
        assertFalse(Files.readString(run.resolve(TrainingRun.CONFIG)).contains("scale_factor: 1.0\n"),
                "--scale-by-std wrote the measured scale factor");

        CliTest.Run again = train(data, run, "--config", tinyConfig().toString(), "--steps", "4");
        assertEquals(2, again.code(), again.err());
        assertTrue(again.err().contains("--resume"), again.err());

        CliTest.Run resumed = train(data, run, "--resume", "--steps", "6");
        assertEquals(2, resumed.code(), "--seed is not allowed with --resume: " + resumed.err());
        List<String> a = new ArrayList<>(List.of("train", "--data", data.toString(), "-o", run.toString(),
                "--resume", "--steps", "6", "--log-every", "1", "--balance-tags", "a red block|a blue block",
                "--lr-cooldown", "2"));
        CliTest.Run ok = CliTest.cli(a.toArray(String[]::new));
        assertEquals(0, ok.code(), ok.err());
        List<String> rows = Files.readAllLines(run.resolve(TrainingRun.LOSSES));
        assertEquals(7, rows.size(), "header + 6 steps: " + rows);
        assertEquals(csv.subList(1, 5), rows.subList(1, 5), "the first four steps are kept");
        assertEquals(1e-3, Double.parseDouble(rows.get(5).split(",")[2]), 1e-9, "step 5: the first of 2 cooldown steps");
        assertEquals(5e-4, Double.parseDouble(rows.get(6).split(",")[2]), 1e-9, "step 6: lr / 2");

        Path png = tmp.resolve("out.png");
        CliTest.Run gen = CliTest.cli("generate", "-m", run.resolve(TrainingRun.MODEL).toString(),
                "--config", run.resolve(TrainingRun.CONFIG).toString(), "-p", "a red block",
                "--steps", "2", "-o", png.toString());
        assertEquals(0, gen.code(), gen.err());
        assertTrue(Files.readString(run.resolve(TrainingRun.CONFIG)).contains("ldm4j:\n  image_size: 16"));
        assertEquals(16, Images.readRgb(png).width(), "without -W/-H: the size the model was trained at");
        assertEquals(16, Images.readRgb(png).height());
    }

    @Test
    void fineTunesTheFixtureCheckpointInFp16() throws IOException {
        Path data = dataset(2, 64);
        Path run = tmp.resolve("tuned");
        CliTest.Run r = train(data, run, "--init-from", Fixtures.path("sd1-tiny/model.safetensors").toString(),
                "--config", Fixtures.path("sd1-tiny/config.yaml").toString(), "--steps", "1", "--save-precision", "fp16",
                "--precision", "bf16");
        assertEquals(0, r.code(), r.err());
        try (var f = dev.ldm4j.io.SafetensorsFile.open(run.resolve(TrainingRun.MODEL))) {
            assertEquals(dev.ldm4j.io.DType.F16, f.info("model.diffusion_model.out.2.weight").dtype());
        }
    }

    @Test
    void fineTuningUsesTheConfigBesideTheCheckpoint() throws IOException {
        // scale factor and head counts are not in the keys: detection alone would give SD 1.5's 0.18215 and 8 heads
        Path ckpt = Files.copy(Fixtures.path("sd1-tiny/model.safetensors"), tmp.resolve("tiny.safetensors"));
        String yaml = Files.readString(Fixtures.path("sd1-tiny/config.yaml"));
        assertTrue(yaml.contains("scale_factor: 0.18215"));
        Files.writeString(tmp.resolve("tiny.yaml"), yaml.replace("scale_factor: 0.18215", "scale_factor: 0.4321"));
        Path run = tmp.resolve("beside");
        CliTest.Run r = train(dataset(2, 64), run, "--init-from", ckpt.toString(), "--steps", "1");
        assertEquals(0, r.code(), r.err());
        String written = Files.readString(run.resolve(TrainingRun.CONFIG));
        assertTrue(written.contains("scale_factor: 0.4321"), written);
        assertTrue(written.contains("num_heads: 2"), written);
        assertFalse(written.contains("num_heads: 8"), written);
    }

    @Test
    void badInputIsOneLineAndExitCode2() throws Exception {
        Path data = dataset(2, 16);
        Path ckpt = Fixtures.path("sd1-tiny/model.safetensors");
        CliTest.Run mismatch = train(data, tmp.resolve("a"), "--init-from", ckpt.toString(),
                "--config", tinyConfig().toString());
        assertEquals(2, mismatch.code(), mismatch.err());
        assertTrue(mismatch.err().contains("does not match model.safetensors"), mismatch.err());
        assertEquals(1, mismatch.err().strip().lines().filter(l -> l.startsWith("ldm4j: error")).count(), mismatch.err());

        CliTest.Run noConfig = train(data, tmp.resolve("b"));
        assertEquals(2, noConfig.code());
        assertTrue(noConfig.err().contains("--config"), noConfig.err());

        CliTest.Run noData = train(tmp.resolve("missing"), tmp.resolve("c"), "--config", tinyConfig().toString());
        assertEquals(2, noData.code());
        assertTrue(noData.err().contains("does not exist"), noData.err());

        CliTest.Run noTag = train(data, tmp.resolve("g"), "--config", tinyConfig().toString(),
                "--balance-tags", "purple|red");
        assertEquals(2, noTag.code(), noTag.err());
        assertTrue(noTag.err().contains("no training caption has any of the tags"), noTag.err());

        CliTest.Run longCooldown = train(data, tmp.resolve("h"), "--config", tinyConfig().toString(),
                "--steps", "4", "--lr-cooldown", "5");
        assertEquals(2, longCooldown.code(), longCooldown.err());
        assertTrue(longCooldown.err().contains("--lr-cooldown must be between 0 and --steps"), longCooldown.err());
        assertFalse(Files.exists(tmp.resolve("h").resolve(TrainingRun.STATE)));

        CliTest.Run nothing = train(data, tmp.resolve("d"), "--resume");
        assertEquals(2, nothing.code());

        // the SD 2.x checkpoint alone, without the config.yaml of its fixture folder
        Path sd2Only = Files.createDirectories(tmp.resolve("sd2only")).resolve("sd2.safetensors");
        Files.copy(Fixtures.path("sd2-tiny/model.safetensors"), sd2Only);
        CliTest.Run sd2 = train(data, tmp.resolve("f"), "--init-from", sd2Only.toString());
        assertEquals(2, sd2.code(), sd2.err());
        assertTrue(sd2.err().contains("--prediction"), sd2.err());

        Path sd1Only = Files.createDirectories(tmp.resolve("sd1only")).resolve("sd1.safetensors");
        Files.copy(ckpt, sd1Only);
        CliTest.Run badSize = train(data, tmp.resolve("e"), "--init-from", sd1Only.toString(), "--steps", "1");
        assertEquals(2, badSize.code(), badSize.err());
        assertTrue(badSize.err().contains("multiple"), badSize.err());
    }

    @Test
    void checkpointsComeWithASampleGridMadeByTheGeneratePipeline() throws Exception {
        Path data = dataset(2, 16);
        Path run = tmp.resolve("sampled");
        CliTest.Run r = train(data, run, "--config", tinyConfig().toString(), "--steps", "2", "--save-every", "1",
                "--sample-prompts", "a red apple | a green leaf");
        assertEquals(0, r.code(), r.err());
        for (String step : new String[] {"step_000001.png", "step_000002.png"}) {
            dev.ldm4j.io.RgbImage grid = dev.ldm4j.io.Images.readRgb(run.resolve("samples").resolve(step));
            // two 16x16 samples side by side with 2-pixel gaps
            assertEquals(2 * 16 + 3 * 2, grid.width());
            assertEquals(16 + 2 * 2, grid.height());
        }
    }
}
