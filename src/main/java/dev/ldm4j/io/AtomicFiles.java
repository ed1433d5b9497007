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
import java.nio.file.attribute.PosixFileAttributeView;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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

    /** Temporary files being written now, removed by a shutdown hook when SIGINT or SIGTERM ends the JVM. */
    private static final Set<Path> IN_FLIGHT = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> IN_FLIGHT.forEach(AtomicFiles::deleteQuietly),
                "ldm4j-temporary-files"));
    }

    private AtomicFiles() {}

    /**
     * Checks, before long work, that {@code target} can be written: its directory exists and takes new files
     * (a file is created there and removed, which also finds a read-only file system), and the target is
     * absent or a regular file (never a directory, a device such as /dev/null, a FIFO or a socket, which the
     * rename would replace).
     *
     * @throws OutputFileException naming the file and the reason
     */
    public static void checkWritable(Path target) {
        Path absolute = target.toAbsolutePath();
        Path dir = checkTarget(target, absolute);
        Path probe = dir.resolve(tempName(absolute.getFileName().toString()));
        try {
            Files.newByteChannel(probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        } catch (IOException e) {
            throw new OutputFileException("cannot write " + target + ": " + reason(e, dir), e);
        } finally {
            deleteQuietly(probe);
        }
    }

    /** The target's directory, after the checks that need no writing. */
    private static Path checkTarget(Path target, Path absolute) {
        Path dir = absolute.getParent();
        if (dir == null || absolute.getFileName() == null) {
            throw new OutputFileException("cannot write " + target + ": not a file path", null);
        }
        if (Files.isDirectory(absolute)) {
            throw new OutputFileException("cannot write " + target + ": it is a directory", null);
        }
        if (Files.exists(absolute) && !Files.isRegularFile(absolute)) {
            throw new OutputFileException("cannot write " + target + ": it is not a regular file (a device, FIFO or "
                    + "socket), which ldm4j does not replace", null);
        }
        if (!Files.isDirectory(dir)) {
            throw new OutputFileException("cannot write " + target + ": directory " + dir
                    + (Files.exists(dir) ? " is not a directory" : " does not exist"), null);
        }
        return dir;
    }

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
        Path dir = checkTarget(target, absolute);
        Path tmp = dir.resolve(tempName(absolute.getFileName().toString()));
        boolean done = false;
        IN_FLIGHT.add(tmp);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
                content.writeTo(out);
                out.flush();
                ch.force(true);
            }
            keepPermissions(absolute, tmp);
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
            IN_FLIGHT.remove(tmp);
        }
    }

    /** An overwritten file keeps its mode (a 600 file stays private), as writing it in place would. */
    private static void keepPermissions(Path target, Path tmp) throws IOException {
        if (Files.isRegularFile(target) && Files.getFileStore(tmp).supportsFileAttributeView(PosixFileAttributeView.class)) {
            Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(target));
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
        // encoders wrap the real cause ("I/O error writing PNG file!" around "No space left on device")
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String why = root instanceof FileSystemException f && f.getReason() != null ? f.getReason() : root.getMessage();
        String outer = e.getMessage() != null ? e.getMessage() : e.toString();
        return root == e || why == null ? outer : outer + " (" + why + ")";
    }

    private static void deleteQuietly(Path tmp) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // the original failure is the one to report; a stray hidden .tmp file is harmless
        }
    }
}
