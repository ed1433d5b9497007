package dev.ldm4j.model;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
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

    private DefaultModel() {}

    /** The default model file (it may be missing: callers report that). */
    public static Path model() {
        return locate(MODEL);
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
