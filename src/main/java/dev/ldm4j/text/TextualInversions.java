package dev.ldm4j.text;

import dev.ldm4j.io.InputFiles;
import dev.ldm4j.io.ModelFileException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The textual-inversion embeddings a model can use, each given token ids past the end of the vocabulary: the
 * prompt chunker writes those ids where a word's token sequence appears, and each text tower's token-embedding
 * table is extended with the words' vectors in id order ({@link #rows}). Looking the ids up is then exactly
 * AUTOMATIC1111's splice of the vectors over its placeholder positions (sd_hijack.EmbeddingsWithFixes).
 *
 * <p>A word is matched on its token ids as A1111 matches it (EmbeddingDatabase.find_embedding_at_position): at
 * each position of a prompt piece, the longest registered word starting with that token wins. Embeddings whose
 * widths do not fit the model's towers are skipped, with the reason, as A1111 skips them.
 */
public final class TextualInversions {
    private static final Logger LOG = LoggerFactory.getLogger(TextualInversions.class);
    private static final List<String> EXTENSIONS = List.of(".pt", ".bin", ".safetensors");

    /** No embeddings. */
    public static final TextualInversions NONE = new TextualInversions(List.of(), Map.of(), 0);

    /** A word found in a prompt: the embedding, the first id of its vectors, and how many prompt tokens it took. */
    public record Match(TextualInversion embedding, int firstId, int tokens) {}

    private record Word(int[] ids, TextualInversion embedding, int firstId) {}

    /** An embedding to load with its name's token ids (at least one). */
    private record Named(TextualInversion embedding, int[] ids) {}

    private final List<TextualInversion> loaded;
    private final Map<String, String> skipped;
    private final Map<Integer, List<Word>> byFirstToken = new HashMap<>();
    private final int firstExtraId;

    /** {@code named}: the loaded embeddings in load order, each with its name's tokens. */
    private TextualInversions(List<Named> named, Map<String, String> skipped, int firstExtraId) {
        this.loaded = named.stream().map(Named::embedding).toList();
        this.skipped = Collections.unmodifiableMap(new LinkedHashMap<>(skipped));
        this.firstExtraId = firstExtraId;
        int next = firstExtraId;
        for (Named n : named) {
            byFirstToken.computeIfAbsent(n.ids()[0], k -> new ArrayList<>()).add(new Word(n.ids(), n.embedding(), next));
            next += n.embedding().vectors();
        }
        // longest first; equal lengths keep load order, as A1111's stable sort does
        byFirstToken.values().forEach(l -> l.sort(Comparator.comparingInt((Word w) -> -w.ids().length)));
    }

    /**
     * The embeddings of {@code candidates} that fit a model whose towers have the given widths (tower key ->
     * width; {@link TextualInversion#ONE_TOWER} for a one-tower model), with ids from {@code tokenizer}'s
     * vocabulary size on. A later embedding of a name already taken is skipped.
     */
    public static TextualInversions of(List<TextualInversion> candidates, ClipTokenizer tokenizer,
                                       Map<String, Integer> towerWidths) {
        return of(candidates, tokenizer, towerWidths, Map.of());
    }

    private static TextualInversions of(List<TextualInversion> candidates, ClipTokenizer tokenizer,
                                        Map<String, Integer> towerWidths, Map<String, String> unreadable) {
        Map<String, String> skipped = new LinkedHashMap<>(unreadable);
        Map<String, TextualInversion> byName = new LinkedHashMap<>();
        List<Named> named = new ArrayList<>();
        for (TextualInversion e : candidates) {
            String why = misfit(e, towerWidths);
            if (why == null && byName.containsKey(e.name())) {
                why = "the name is taken by " + byName.get(e.name()).file();
            }
            int[] ids = why == null ? tokenizer.encode(e.name()) : null;
            if (ids != null && ids.length == 0) {
                why = "its name has no tokens to match in a prompt";
            }
            if (why != null) {
                skipped.put(e.name(), why);
            } else {
                byName.put(e.name(), e);
                named.add(new Named(e, ids));
            }
        }
        return new TextualInversions(named, skipped, tokenizer.vocabSize());
    }

    /**
     * The embedding files under {@code dir} and its subfolders ({@code .pt}, {@code .bin}, {@code .safetensors};
     * empty files are passed over), those fitting the towers loaded; a file that cannot be read is skipped with
     * a warning naming it, as A1111 reports it and goes on.
     */
    public static TextualInversions load(Path dir, ClipTokenizer tokenizer, Map<String, Integer> towerWidths) {
        Objects.requireNonNull(dir, "dir");
        if (!Files.isDirectory(dir)) {
            throw new ModelFileException("embeddings folder " + dir + " does not exist or is not a folder");
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir, 8)) {
            files = walk.filter(Files::isRegularFile).filter(TextualInversions::isEmbeddingFile).sorted().toList();
        } catch (IOException | UncheckedIOException e) {
            throw new ModelFileException("cannot list the embeddings folder " + dir + ": " + e.getMessage());
        }
        List<TextualInversion> read = new ArrayList<>();
        Map<String, String> unreadable = new LinkedHashMap<>();
        for (Path f : files) {
            try {
                if (Files.size(f) == 0) {
                    continue;
                }
                read.add(TextualInversion.read(f));
            } catch (IOException | RuntimeException e) {
                String why = e.getMessage() == null ? e.toString() : e.getMessage();
                LOG.warn("embedding {} skipped: {}", f, why);
                unreadable.put(InputFiles.stem(f), why);
            }
        }
        TextualInversions set = of(read, tokenizer, towerWidths, unreadable);
        if (!set.loaded.isEmpty()) {
            LOG.info("textual inversion embeddings loaded ({}): {}", set.loaded.size(),
                    String.join(", ", set.loaded.stream().map(TextualInversion::name).toList()));
        }
        set.skipped.forEach((name, why) -> LOG.debug("embedding {} skipped: {}", name, why));
        return set;
    }

    private static boolean isEmbeddingFile(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return EXTENSIONS.stream().anyMatch(n::endsWith);
    }

    /** Why {@code e} does not fit the towers, or null when it does. */
    private static String misfit(TextualInversion e, Map<String, Integer> towerWidths) {
        if (towerWidths.containsKey(TextualInversion.ONE_TOWER)) {
            TextualInversion.Vectors v = e.towers().get(TextualInversion.ONE_TOWER);
            int want = towerWidths.get(TextualInversion.ONE_TOWER);
            if (v == null) {
                return "it is made for a model with the towers " + e.towers().keySet() + " (shape " + e.shape()
                        + "); this model's vectors are " + want + " wide";
            }
            return v.dim() == want ? null : "its vectors are " + v.dim() + " wide; this model's are " + want;
        }
        for (Map.Entry<String, Integer> t : towerWidths.entrySet()) {
            TextualInversion.Vectors v = e.towers().get(t.getKey());
            if (v == null) {
                return "it has no '" + t.getKey() + "' vectors (shape " + e.shape() + "), which this model needs";
            }
            if (v.dim() != t.getValue()) {
                return "its '" + t.getKey() + "' vectors are " + v.dim() + " wide; this model's are " + t.getValue();
            }
        }
        return null;
    }

    /** The embeddings in use, in id order. */
    public List<TextualInversion> loaded() {
        return loaded;
    }

    /** Embeddings found but not usable with this model: name -> why. */
    public Map<String, String> skipped() {
        return skipped;
    }

    public boolean isEmpty() {
        return loaded.isEmpty();
    }

    /** The id of the first embedding vector: the vocabulary's size. */
    public int firstExtraId() {
        return firstExtraId;
    }

    /** Number of vectors of all embeddings together: the rows each tower's table grows by. */
    public int extraRows() {
        return loaded.stream().mapToInt(TextualInversion::vectors).sum();
    }

    /** The embedding whose name starts at {@code tokens[position]}, the longest that matches; null if none. */
    public Match match(int[] tokens, int position) {
        List<Word> words = byFirstToken.get(tokens[position]);
        if (words == null) {
            return null;
        }
        for (Word w : words) {
            int n = w.ids().length;
            if (position + n <= tokens.length
                    && Arrays.equals(tokens, position, position + n, w.ids(), 0, n)) {
                return new Match(w.embedding(), w.firstId(), n);
            }
        }
        return null;
    }

    /** The rows {@code [extraRows, width]} to append to {@code tower}'s token-embedding table, row-major. */
    public float[] rows(String tower) {
        List<float[]> parts = new ArrayList<>();
        int size = 0;
        for (TextualInversion e : loaded) {
            TextualInversion.Vectors v = e.towers().get(tower);
            if (v == null) {
                throw new IllegalArgumentException("embedding " + e.name() + " has no vectors for tower '" + tower
                        + "'");
            }
            parts.add(v.data());
            size += v.data().length;
        }
        float[] out = new float[size];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
