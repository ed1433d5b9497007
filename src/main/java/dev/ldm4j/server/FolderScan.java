package dev.ldm4j.server;

import dev.ldm4j.io.ModelFileException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The files a server folder offers, in subfolders too, as AUTOMATIC1111 searches its models and LoRA folders:
 * in name order, a subfolder's where its name sorts; hidden folders and what {@code wanted} takes (a diffusers
 * folder is one model, not a folder to search) are not searched; a link loop or a huge tree stops at
 * {@value #MAX_DEPTH} levels.
 */
final class FolderScan {
    static final int MAX_DEPTH = 8;

    private FolderScan() {}

    /**
     * @param what the folder's kind for the error when it cannot be listed ("models folder")
     */
    static List<Path> find(Path dir, Predicate<Path> wanted, String what) {
        List<Path> found = new ArrayList<>();
        scan(dir, 0, wanted, what, found);
        return found;
    }

    private static void scan(Path folder, int depth, Predicate<Path> wanted, String what, List<Path> found) {
        List<Path> children;
        try (Stream<Path> files = Files.list(folder)) {
            children = files.sorted().toList();
        } catch (IOException e) {
            if (depth == 0) {
                throw new ModelFileException(folder + ": cannot list the " + what + " (" + e.getMessage() + ")", e);
            }
            return; // an unreadable subfolder hides only itself
        }
        for (Path p : children) {
            if (wanted.test(p)) {
                found.add(p);
            } else if (depth < MAX_DEPTH && Files.isDirectory(p) && !p.getFileName().toString().startsWith(".")) {
                scan(p, depth + 1, wanted, what, found);
            }
        }
    }
}
