package dev.ldm4j.text;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * The CLIP byte-level BPE vocabulary, rebuilt from the original openai merge list the way CLIP builds it: the 256
 * byte symbols, the same 256 symbols with the end-of-word marker, one token per merge in rank order, then the two
 * special tokens. Immutable once built.
 */
final class ClipVocabulary {
    static final String BUNDLED_RESOURCE = "bpe_simple_vocab_16e6.txt.gz";
    static final String END_OF_WORD = "</w>";
    /** Merges used by CLIP: 49408 ids minus the 512 byte symbols and the 2 special tokens. */
    static final int MERGE_COUNT = 48_894;
    static final int START_OF_TEXT = 49406;
    static final int END_OF_TEXT = 49407;

    private final char[] byteSymbol;
    private final Map<Character, Integer> symbolByte;
    private final String[] tokens;
    private final Map<String, Integer> ids;
    private final Map<String, Integer> mergeRanks;

    private ClipVocabulary(char[] byteSymbol, String[] merges) {
        this.byteSymbol = byteSymbol;
        this.symbolByte = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            symbolByte.put(byteSymbol[b], b);
        }
        int[] order = symbolOrder();
        tokens = new String[512 + merges.length + 2];
        int id = 0;
        for (int b : order) {
            tokens[id++] = String.valueOf(byteSymbol[b]);
        }
        for (int b : order) {
            tokens[id++] = byteSymbol[b] + END_OF_WORD;
        }
        mergeRanks = new HashMap<>(merges.length * 2);
        for (int rank = 0; rank < merges.length; rank++) {
            String merge = merges[rank];
            int space = merge.indexOf(' ');
            tokens[id++] = merge.substring(0, space) + merge.substring(space + 1);
            mergeRanks.put(merge, rank);
        }
        tokens[id++] = "<|startoftext|>";
        tokens[id] = "<|endoftext|>";
        ids = new HashMap<>(tokens.length * 2);
        for (int i = 0; i < tokens.length; i++) {
            ids.put(tokens[i], i);
        }
    }

    /** Reads the vocabulary bundled with ldm4j (the openai {@code bpe_simple_vocab_16e6.txt.gz}). */
    static ClipVocabulary loadBundled() {
        try (InputStream in = ClipVocabulary.class.getResourceAsStream(BUNDLED_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing classpath resource dev/ldm4j/text/" + BUNDLED_RESOURCE);
            }
            return read(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bundled CLIP vocabulary " + BUNDLED_RESOURCE, e);
        }
    }

    /** Reads a gzipped merge list: a header line, then one "left right" merge per line in rank order. */
    static ClipVocabulary read(InputStream gzipped) throws IOException {
        BufferedReader r = new BufferedReader(
                new InputStreamReader(new GZIPInputStream(gzipped), StandardCharsets.UTF_8));
        r.readLine();
        String[] merges = new String[MERGE_COUNT];
        for (int i = 0; i < MERGE_COUNT; i++) {
            String line = r.readLine();
            if (line == null) {
                throw new IOException("merge list ends after " + i + " merges, expected " + MERGE_COUNT);
            }
            String[] parts = line.trim().split("\\s+");
            if (parts.length != 2) {
                throw new IOException("merge line " + (i + 1) + " is not two symbols: '" + line + "'");
            }
            merges[i] = parts[0] + ' ' + parts[1];
        }
        return new ClipVocabulary(byteSymbols(), merges);
    }

    /**
     * The printable symbol standing for each byte. Bytes that are printable Latin-1 characters stand for themselves;
     * the rest (controls, space, NBSP, soft hyphen) are moved, in byte order, to U+0100 and up, so that no symbol
     * is whitespace or a control character.
     */
    private static char[] byteSymbols() {
        char[] symbol = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            symbol[b] = (char) (isPrintableLatin1(b) ? b : next++);
        }
        return symbol;
    }

    /** Byte order of the first 256 ids: the printable bytes first, then the moved ones. */
    private static int[] symbolOrder() {
        int[] order = new int[256];
        int i = 0;
        for (int b = 0; b < 256; b++) {
            if (isPrintableLatin1(b)) {
                order[i++] = b;
            }
        }
        for (int b = 0; b < 256; b++) {
            if (!isPrintableLatin1(b)) {
                order[i++] = b;
            }
        }
        return order;
    }

    private static boolean isPrintableLatin1(int b) {
        return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    }

    char symbolOf(int unsignedByte) {
        return byteSymbol[unsignedByte];
    }

    /** The byte a symbol stands for, or -1 if it is not a byte symbol. */
    int byteOf(char symbol) {
        Integer b = symbolByte.get(symbol);
        return b == null ? -1 : b;
    }

    /** Rank of merging {@code left} and {@code right} (lower merges first), or {@link Integer#MAX_VALUE}. */
    int mergeRank(String left, String right) {
        Integer rank = mergeRanks.get(left + ' ' + right);
        return rank == null ? Integer.MAX_VALUE : rank;
    }

    /** The id of a token string, or -1 if it is not in the vocabulary. */
    int id(String token) {
        Integer id = ids.get(token);
        return id == null ? -1 : id;
    }

    String token(int id) {
        if (id < 0 || id >= tokens.length) {
            throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, " + tokens.length + ")");
        }
        return tokens[id];
    }

    int size() {
        return tokens.length;
    }
}
