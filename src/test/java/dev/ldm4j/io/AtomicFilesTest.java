package dev.ldm4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The text side of the one atomic writer (its binary side is covered by {@link SafetensorsWriterTest}). */
class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void writesUtf8TextOverTheOldFileAndLeavesNothingElse() throws IOException {
        Path p = dir.resolve("model.yaml");
        Files.writeString(p, "old");
        AtomicFiles.writeString(p, "größe: 64\n");
        assertEquals("größe: 64\n", Files.readString(p));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(p), files.toList());
        }
    }

    @Test
    void aMissingDirectoryIsAnOutputFileErrorNamingIt() {
        Path p = dir.resolve("no/such/dir/a.yaml");
        OutputFileException e = assertThrows(OutputFileException.class, () -> AtomicFiles.writeString(p, "x"));
        assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void aWriteErrorNamesItsCauseAndLeavesNoFile() {
        // what ImageIO's PNG writer throws when the disk is full: its own words around the real cause
        Path p = dir.resolve("out.png");
        OutputFileException e = assertThrows(OutputFileException.class, () -> AtomicFiles.write(p, out -> {
            throw new javax.imageio.IIOException("I/O error writing PNG file!",
                    new IOException("No space left on device"));
        }));
        assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
        assertTrue(Files.notExists(p));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(0, files.count());
        } catch (IOException x) {
            throw new AssertionError(x);
        }
    }
}
