package dev.ldm4j.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way ldm4j writes a file, so that readers only ever see the old file or the complete new one: the
 * content goes to a hidden temporary file in the same directory (same file system, so the final rename is
 * atomic), is flushed to disk (fsync: a crash right after the rename must not leave an empty file under the
 * new name), then renamed over the target. On any failure the temporary file is removed.
 */
public final class AtomicFiles {
    /** What writes the content; it must not close the stream. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    private static final Logger LOG = LoggerFactory.getLogger(AtomicFiles.class);

    private AtomicFiles() {}

    /** Writes {@code text} as UTF-8. */
    public static void writeString(Path target, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        write(target, out -> out.write(bytes));
    }

    /**
     * Writes what {@code content} produces.
     *
     * @throws OutputFileException when the file cannot be written (the message names it and says why); an
     *                             unchecked exception of {@code content} is passed on as it is
     */
    public static void write(Path target, Content content) {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        if (dir == null || absolute.getFileName() == null) {
            throw new OutputFileException("cannot write " + target + ": not a file path", null);
        }
        if (Files.isDirectory(absolute)) {
            throw new OutputFileException("cannot write " + target + ": it is a directory", null);
        }
        if (!Files.isDirectory(dir)) {
            throw new OutputFileException("cannot write " + target + ": directory " + dir
                    + (Files.exists(dir) ? " is not a directory" : " does not exist"), null);
        }
        Path tmp = dir.resolve(tempName(absolute.getFileName().toString()));
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
                content.writeTo(out);
                out.flush();
                ch.force(true);
            }
            try {
                Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                LOG.warn("{}: the file system cannot rename atomically; replacing the file non-atomically", dir);
                Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } catch (IOException e) {
            throw new OutputFileException("cannot write " + target + ": " + reason(e, dir), e);
        } finally {
            if (!done) {
                deleteQuietly(tmp);
            }
        }
    }

    private static String tempName(String name) {
        // keep the name recognisable but well inside the usual 255-byte file-name limit
        String base = name.length() > 100 ? name.substring(0, 100) : name;
        return "." + base + "." + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + ".tmp";
    }

    private static String reason(IOException e, Path dir) {
        if (e instanceof AccessDeniedException) {
            return "permission denied (is " + dir + " writable?)";
        }
        if (e instanceof NoSuchFileException) {
            return "directory " + dir + " disappeared while writing";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    private static void deleteQuietly(Path tmp) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // the original failure is the one to report; a stray hidden .tmp file is harmless
        }
    }
}
