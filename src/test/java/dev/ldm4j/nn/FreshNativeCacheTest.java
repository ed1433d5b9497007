package dev.ldm4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The first load of libtorch from an empty JavaCPP cache used to kill the JVM; {@link Torch#load()} extracts
 * the natives before loading. This starts a fresh JVM on an empty cache dir, as a new user's first run would.
 */
class FreshNativeCacheTest {
    /** Entry point of the child JVM: load, compute, print. */
    public static void main(String[] args) {
        Torch.load();
        Tensor x = torch.ones(2, 3);
        System.out.println("sum=" + x.sum().item().toFloat());
    }

    @Test
    void firstLoadFromAnEmptyCacheWorks(@TempDir Path dir) throws IOException, InterruptedException {
        Path cache = dir.resolve("javacpp-cache");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(List.of(java, "-Dorg.bytedeco.javacpp.cachedir=" + cache,
                "-cp", System.getProperty("java.class.path"), FreshNativeCacheTest.class.getName()))
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "child JVM did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "child JVM failed:\n" + out);
        assertTrue(out.contains("sum=6.0"), out);
        assertTrue(Files.isDirectory(cache), "natives were not extracted into the given cache dir");
    }
}
