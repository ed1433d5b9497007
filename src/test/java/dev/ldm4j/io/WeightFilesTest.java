package dev.ldm4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one rule for which files hold weights, shared by the CLI's LoRA lookup, the server's folders and configs. */
class WeightFilesTest {
    @TempDir
    Path dir;

    @Test
    void aLookupByNamePrefersSafetensorsThenCkptThenPt() throws IOException {
        Files.writeString(dir.resolve("style.pt"), "");
        assertEquals(dir.resolve("style.pt"), WeightFiles.byName(dir, "style"));
        Files.writeString(dir.resolve("style.ckpt"), "");
        assertEquals(dir.resolve("style.ckpt"), WeightFiles.byName(dir, "style"));
        Files.writeString(dir.resolve("style.safetensors"), "");
        assertEquals(dir.resolve("style.safetensors"), WeightFiles.byName(dir, "style"));
        assertNull(WeightFiles.byName(dir, "other"));
    }

    @Test
    void onlyRegularFilesWithAWeightExtensionInAnyCaseCount() throws IOException {
        Files.writeString(dir.resolve("a.SafeTensors"), "");
        Files.writeString(dir.resolve("b.bin"), "");
        Files.writeString(dir.resolve("c.safetensors.txt"), "");
        Files.createDirectory(dir.resolve("d.ckpt"));
        assertTrue(WeightFiles.is(dir.resolve("a.SafeTensors")));
        assertFalse(WeightFiles.is(dir.resolve("b.bin")));
        assertFalse(WeightFiles.is(dir.resolve("c.safetensors.txt")));
        assertFalse(WeightFiles.is(dir.resolve("d.ckpt")), "a folder is not a weight file");
        assertFalse(WeightFiles.is(dir.resolve("missing.pt")));
    }

    @Test
    void rankFollowsTheLookupOrder() {
        assertTrue(WeightFiles.rank(Path.of("x.safetensors")) < WeightFiles.rank(Path.of("x.ckpt")));
        assertTrue(WeightFiles.rank(Path.of("x.ckpt")) < WeightFiles.rank(Path.of("x.PT")));
        assertEquals(WeightFiles.EXTENSIONS.size(), WeightFiles.rank(Path.of("x.bin")));
        assertEquals(WeightFiles.EXTENSIONS.size(), WeightFiles.rank(Path.of("/")));
    }
}
