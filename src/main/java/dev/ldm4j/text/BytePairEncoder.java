package dev.ldm4j.text;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Byte-level BPE of single pre-tokenized words: UTF-8 bytes become byte symbols, the last one carries the end-of-word
 * marker, and the lowest-ranked adjacent pair is merged (every occurrence, left to right) until no pair has a rank.
 * Results are cached per encoder; the cache is bounded so a stream of unique prompts cannot grow it without limit.
 * Thread-safe.
 */
final class BytePairEncoder {
    private static final int CACHE_LIMIT = 100_000;

    private final ClipVocabulary vocab;
    private final ConcurrentMap<String, int[]> cache = new ConcurrentHashMap<>();

    BytePairEncoder(ClipVocabulary vocab) {
        this.vocab = vocab;
    }

    /** Appends the ids of one word (a non-empty pre-tokenizer piece) to {@code out}. */
    void encodeWord(String word, List<Integer> out) {
        int[] ids = cache.get(word);
        if (ids == null) {
            ids = merge(word);
            if (cache.size() < CACHE_LIMIT) {
                cache.putIfAbsent(word, ids);
            }
        }
        for (int id : ids) {
            out.add(id);
        }
    }

    private int[] merge(String word) {
        byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
        List<String> symbols = new ArrayList<>(bytes.length);
        for (byte b : bytes) {
            symbols.add(String.valueOf(vocab.symbolOf(b & 0xFF)));
        }
        int last = symbols.size() - 1;
        symbols.set(last, symbols.get(last) + ClipVocabulary.END_OF_WORD);

        while (symbols.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            String left = null;
            String right = null;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                int rank = vocab.mergeRank(symbols.get(i), symbols.get(i + 1));
                if (rank < bestRank) {
                    bestRank = rank;
                    left = symbols.get(i);
                    right = symbols.get(i + 1);
                }
            }
            if (left == null) {
                break;
            }
            List<String> merged = new ArrayList<>(symbols.size());
            for (int i = 0; i < symbols.size(); i++) {
                if (i + 1 < symbols.size() && symbols.get(i).equals(left) && symbols.get(i + 1).equals(right)) {
                    merged.add(left + right);
                    i++;
                } else {
                    merged.add(symbols.get(i));
                }
            }
            symbols = merged;
        }

        int[] ids = new int[symbols.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = vocab.id(symbols.get(i));
            if (ids[i] < 0) {
                // every merge result is a vocabulary entry, so this means a corrupt vocabulary
                throw new IllegalStateException("BPE symbol '" + symbols.get(i) + "' is not in the vocabulary");
            }
        }
        return ids;
    }
}
