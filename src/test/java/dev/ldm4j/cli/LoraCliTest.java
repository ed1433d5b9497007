package dev.ldm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a user gets wrong with LoRA tags: one clear line, exit 2, no image. */
class LoraCliTest {
    private static CliTest.Run run(Path dir, String prompt, String loraDir) {
        return CliTest.cli("generate", "-m", Fixtures.path("sd1-tiny/model.safetensors").toString(), "--config",
                Fixtures.path("sd1-tiny/config.yaml").toString(), "-p", prompt, "--steps", "1", "-W", "64", "-H", "64",
                "--lora-model-dir", loraDir, "-o", dir.resolve("out.png").toString());
    }

    @Test
    void aMissingLoraIsNamed(@TempDir Path dir) {
        CliTest.Run r = run(dir, "a cat <lora:nowhere:0.8>", dir.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("no LoRA 'nowhere'"), r.err());
        assertFalse(Files.exists(dir.resolve("out.png")));
    }

    @Test
    void aBadTagIsRefused(@TempDir Path dir) {
        CliTest.Run r = run(dir, "a cat <lora:sd1_tiny_lora:strong>", Fixtures.path("lora").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("not a number"), r.err());
    }

    @Test
    void aFileThatIsNoLoraIsRefused(@TempDir Path dir) throws Exception {
        Files.copy(Fixtures.path("sd1-tiny/model.safetensors"), dir.resolve("model.safetensors"));
        CliTest.Run r = run(dir, "a cat <lora:model:1>", dir.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("not a LoRA file"), r.err());
    }
}
