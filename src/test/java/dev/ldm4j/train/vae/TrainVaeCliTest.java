package dev.ldm4j.train.vae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainVaeCliTest {
    @TempDir
    Path tmp;

    private record Result(int code, String err) {}

    private static Result run(String... args) {
        StringWriter sw = new StringWriter();
        int code = Main.run(new PrintWriter(sw, true), args);
        return new Result(code, sw.toString());
    }

    @Test
    void trainsResumesAndWritesTheRunFiles() throws Exception {
        Path data = AutoencoderTrainerTest.imageFolder(tmp.resolve("data"), 6, 16);
        Path yaml = Files.writeString(tmp.resolve("ae.yaml"), AutoencoderTrainerTest.tinyYaml(2));
        Path out = tmp.resolve("run");
        Result r = run("train-vae", "--data", data.toString(), "--config", yaml.toString(), "-o", out.toString(),
                "--steps", "3", "-b", "2", "--eval-every", "2", "--log-every", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("step 3/3"), r.err());
        for (String f : new String[] {"vae.safetensors", "vae.yaml", "state.safetensors", "losses.csv"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        Result again = run("train-vae", "--data", data.toString(), "--config", yaml.toString(), "-o", out.toString());
        assertEquals(2, again.code());
        assertTrue(again.err().contains("--resume"), again.err());
        Result resumed = run("train-vae", "--data", data.toString(), "-o", out.toString(), "--resume", "--steps", "4",
                "-b", "2", "--log-every", "1");
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.err().contains("step 4/4"), resumed.err());
        assertEquals(5, Files.readAllLines(out.resolve("losses.csv")).size());
    }

    @Test
    void badInputIsOneLine() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Path yaml = Files.writeString(tmp.resolve("ae.yaml"), AutoencoderTrainerTest.tinyYaml(2));
        Result r = run("train-vae", "--data", empty.toString(), "--config", yaml.toString(), "-o",
                tmp.resolve("o").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("ldm4j: error: dataset folder") && r.err().strip().lines().count() == 1, r.err());

        Path bad = Files.writeString(tmp.resolve("bad.yaml"), AutoencoderTrainerTest.tinyYaml(2).replace("ch: 32", "ch: 16"));
        Path data = AutoencoderTrainerTest.imageFolder(tmp.resolve("data"), 2, 16);
        r = run("train-vae", "--data", data.toString(), "--config", bad.toString(), "-o", tmp.resolve("o").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("multiple of 32"), r.err());

        Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
        r = run("train-vae", "--data", data.toString(), "--config", yaml.toString(), "-o",
                file.resolve("sub").toString(), "-b", "1", "--steps", "1");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("cannot create"), r.err());
    }
}
