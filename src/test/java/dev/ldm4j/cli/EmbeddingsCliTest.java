package dev.ldm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.io.Images;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code generate --embd-dir}: a prompt naming an embedding whose vectors are the token rows of "red apple"
 * (scripts/reference/textual_inversion_files.py) draws exactly the image of the prompt with those words.
 */
@Tag("golden")
class EmbeddingsCliTest {
    private static String embeddings() throws Exception {
        return Path.of(EmbeddingsCliTest.class.getResource("/dev/ldm4j/text/ti/sd1").toURI()).toString();
    }

    @Test
    void anEmbeddingDrawsWhatItsWordsDraw(@TempDir Path dir) throws Exception {
        Path words = dir.resolve("words.png");
        Path emb = dir.resolve("emb.png");
        CliTest.Run a = CliTest.cli(CliTest.tinyArgs(words, "-p", "red apple on a table", "--steps", "3"));
        assertEquals(0, a.code(), a.err());
        CliTest.Run b = CliTest.cli(CliTest.tinyArgs(emb, "-p", "a1111-apple on a table", "--steps", "3",
                "--embd-dir", embeddings()));
        assertEquals(0, b.code(), b.err());
        assertArrayEquals(Images.readRgb(words).pixels(), Images.readRgb(emb).pixels());
        // and the name is only text without the folder
        CliTest.Run c = CliTest.cli(CliTest.tinyArgs(dir.resolve("plain.png"), "-p", "a1111-apple on a table",
                "--steps", "3"));
        assertEquals(0, c.code(), c.err());
        assertFalse(java.util.Arrays.equals(Images.readRgb(words).pixels(),
                Images.readRgb(dir.resolve("plain.png")).pixels()));
    }

    @Test
    void aMissingFolderIsOneLine(@TempDir Path dir) {
        CliTest.Run r = CliTest.cli(CliTest.tinyArgs(dir.resolve("out.png"), "--steps", "1",
                "--embd-dir", dir.resolve("nowhere").toString()));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("nowhere"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(dir.resolve("out.png")));
    }
}
