package dev.ldm4j.io;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Which files hold weights (a checkpoint, a LoRA): {@code .safetensors}, {@code .ckpt} and {@code .pt}. Where a
 * name alone is given (a LoRA tag, a model folder) and several kinds exist, they are tried in this order, as
 * stable-diffusion.cpp tries them: safetensors first, because it is read without a pickle.
 */
public final class WeightFiles {
    /** The extensions, in the order a lookup by name prefers them. */
    public static final List<String> EXTENSIONS = List.of(".safetensors", ".ckpt", ".pt");

    private WeightFiles() {}

    /** Whether {@code p} is a regular file whose name (in any case) ends in one of {@link #EXTENSIONS}. */
    public static boolean is(Path p) {
        return rank(p) < EXTENSIONS.size() && Files.isRegularFile(p);
    }

    /** The index of {@code p}'s extension in {@link #EXTENSIONS}, or its size when it has none of them. */
    public static int rank(Path p) {
        Path name = p.getFileName();
        String n = name == null ? "" : name.toString().toLowerCase(Locale.ROOT);
        for (int i = 0; i < EXTENSIONS.size(); i++) {
            if (n.endsWith(EXTENSIONS.get(i))) {
                return i;
            }
        }
        return EXTENSIONS.size();
    }

    /** NAME with the first of {@link #EXTENSIONS} that is a file in {@code dir}, or null when there is none. */
    public static Path byName(Path dir, String name) {
        for (String ext : EXTENSIONS) {
            Path p = dir.resolve(name + ext);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }
}
