package dev.ldm4j.model;

import dev.ldm4j.io.ModelFileException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Where ldm4j's own small model lives: {@code models/emoji/emoji.safetensors} (with {@code emoji.yaml} beside
 * it) in the ldm4j folder, the one {@code generate} uses when no {@code -m} is given. The folder is taken from
 * the {@code ldm4j.home} system property (the {@code ./ldm4j} launcher sets it), else found upwards from the
 * jar or classes folder ldm4j runs from, else the working directory.
 */
public final class DefaultModel {
    public static final String MODEL = "models/emoji/emoji.safetensors";
    public static final String CLASSIFIER = "models/emoji/category-classifier.safetensors";
    /** Where the jar carries the default model and its YAML. */
    private static final String RESOURCE = "/dev/ldm4j/models/emoji/";

    private DefaultModel() {}

    /** The default model file (it may be missing: callers report that). */
    public static Path model() {
        return locate(MODEL);
    }

    /**
     * The default model as a file: the one in the ldm4j folder when there is one, else the copy inside ldm4j's
     * jar (a Maven dependency carries it), written once to a folder of the temporary directory.
     *
     * @throws ModelFileException when neither exists
     */
    public static Path resolve() {
        Path onDisk = model();
        if (Files.isRegularFile(onDisk)) {
            return onDisk;
        }
        URL bundled = DefaultModel.class.getResource(RESOURCE + "emoji.safetensors");
        if (bundled == null) {
            throw new ModelFileException("ldm4j's default model is missing: " + onDisk + " (it ships in the ldm4j "
                    + "repository under " + MODEL + " and inside its jar)");
        }
        try {
            long size = bundled.openConnection().getContentLengthLong();
            Path dir = Path.of(System.getProperty("java.io.tmpdir"),
                    "ldm4j-" + System.getProperty("user.name", "user"), "emoji-" + size);
            Files.createDirectories(dir);
            Path model = dir.resolve("emoji.safetensors");
            for (String name : List.of("emoji.yaml", "emoji.safetensors")) {
                Path target = dir.resolve(name);
                URL source = DefaultModel.class.getResource(RESOURCE + name);
                if (source != null && (!Files.isRegularFile(target)
                        || Files.size(target) != source.openConnection().getContentLengthLong())) {
                    // another process may be copying too: each writes its own temporary file, then moves it
                    Path tmp = Files.createTempFile(dir, name, ".tmp");
                    try (InputStream in = source.openStream()) {
                        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                    } finally {
                        Files.deleteIfExists(tmp);
                    }
                }
            }
            return model;
        } catch (IOException e) {
            throw new ModelFileException("cannot unpack ldm4j's default model to the temporary directory: " + e);
        }
    }

    /** The emoji category classifier of {@code ldm4j eval}. */
    public static Path classifier() {
        return locate(CLASSIFIER);
    }

    static Path locate(String relative) {
        List<Path> candidates = new ArrayList<>();
        String home = System.getProperty("ldm4j.home");
        if (home != null && !home.isBlank()) {
            candidates.add(Path.of(home));
        }
        try {
            Path code = Path.of(DefaultModel.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            // target/ldm4j.jar or target/classes: the ldm4j folder is two levels up
            for (Path p = code.getParent(); p != null && candidates.size() < 4; p = p.getParent()) {
                candidates.add(p);
            }
        } catch (URISyntaxException | RuntimeException e) {
            // no code source (e.g. a custom class loader): only the property and the working directory
        }
        for (Path dir : candidates) {
            Path p = dir.resolve(relative);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return Path.of(relative).toAbsolutePath();
    }
}
