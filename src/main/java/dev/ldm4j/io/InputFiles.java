package dev.ldm4j.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What is wrong with a path given as an input file, found before it is opened: opening a FIFO that no one
 * writes blocks forever, a pipe ({@code <(cat file)}) cannot be read twice, and "no such file" for a symbolic
 * link loop sends the user looking in the wrong place.
 */
public final class InputFiles {
    private InputFiles() {}

    /** The file's name without its extension ("sd-v1-5" of "sd-v1-5.safetensors"; ".hidden" stays whole). */
    public static String stem(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    /** Empty when {@code path} is a readable regular file, else why not ("no such file", ...). */
    public static Optional<String> problem(Path path) {
        if (Files.isRegularFile(path)) {
            return Files.isReadable(path) ? Optional.empty() : Optional.of("cannot open (permission denied)");
        }
        if (Files.isDirectory(path)) {
            return Optional.of("is a directory");
        }
        if (Files.exists(path)) {
            return Optional.of("not a regular file (a pipe, FIFO or device); give it as a file");
        }
        if (Files.isSymbolicLink(path)) {
            try {
                path.toRealPath();
            } catch (NoSuchFileException e) {
                return Optional.of("a symbolic link to a file that does not exist");
            } catch (FileSystemException e) {
                return Optional.of("cannot follow the symbolic link (" + (e.getReason() != null ? e.getReason()
                        : e.getMessage()) + ")");
            } catch (IOException e) {
                return Optional.of("cannot follow the symbolic link (" + e.getMessage() + ")");
            }
        }
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.of("cannot be opened");
        }
        try {
            // a component of the path that is not a directory, or one that cannot be searched
            Files.readAttributes(path, "size");
        } catch (AccessDeniedException e) {
            return Optional.of("cannot open (permission denied)");
        } catch (IOException e) {
            // reported below
        }
        return Optional.of("no such file");
    }
}
