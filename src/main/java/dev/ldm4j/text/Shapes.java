package dev.ldm4j.text;

import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import java.util.Arrays;
import java.util.function.Function;

/**
 * Tensor shapes by key, for detecting a text encoder's sizes from a checkpoint without its config.
 * {@code shapeOf} returns null for a key that is absent; {@code where} names the source in messages.
 */
record Shapes(Function<String, long[]> shapeOf, String where) {
    static Shapes of(SafetensorsFile file) {
        return new Shapes(k -> file.has(k) ? file.info(k).shape() : null, file.path().toString());
    }

    static String prefix(String prefix) {
        return prefix.isEmpty() || prefix.endsWith(".") ? prefix : prefix + ".";
    }

    boolean has(String key) {
        return shapeOf.apply(key) != null;
    }

    /** The shape of {@code key}, which must exist with {@code rank} dimensions. */
    long[] require(String key, int rank) {
        long[] s = shapeOf.apply(key);
        if (s == null) {
            throw new ModelFileException(where + ": missing key '" + key + "'");
        }
        if (s.length != rank) {
            throw new ModelFileException(where + ": key '" + key + "' has shape " + Arrays.toString(s)
                    + ", expected " + rank + " dimensions");
        }
        return s;
    }

    /** How many consecutive blocks {@code prefix0.<leaf>}, {@code prefix1.<leaf>}, ... exist. */
    int countBlocks(String blockPrefix, String leaf) {
        int n = 0;
        while (has(blockPrefix + n + "." + leaf)) {
            n++;
        }
        return n;
    }

    /**
     * Attention weights do not reveal the head count; every released CLIP / OpenCLIP text tower uses
     * 64-wide heads, so that is the rule when the caller does not know better.
     */
    int headsFor(long width) {
        if (width <= 0 || width % 64 != 0) {
            throw new ModelFileException(where + ": cannot infer the text encoder's attention heads from width "
                    + width + " (not a multiple of 64); give the head count or the model config");
        }
        return Math.toIntExact(width / 64);
    }
}
