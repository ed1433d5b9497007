package dev.ldm4j.text;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CLIP byte-level BPE tokenizer shared by the SD1, SD2 and SDXL text encoders. A prompt is cleaned
 * ({@link TextCleaner}), split into words, numbers and punctuation runs, and each piece is BPE-encoded over its
 * UTF-8 bytes. Immutable apart from an internal BPE cache; safe to share between threads.
 *
 * <pre>{@code
 * ClipTokenizer tokenizer = ClipTokenizer.load();
 * long[] ids = tokenizer.inputIds("a photograph of an astronaut riding a horse", ClipTokenizer.Style.SD1);
 * }</pre>
 */
public final class ClipTokenizer {
    private static final Logger LOG = LoggerFactory.getLogger(ClipTokenizer.class);

    /** Token positions a CLIP text encoder sees. */
    public static final int CONTEXT_LENGTH = 77;
    public static final int START_OF_TEXT = ClipVocabulary.START_OF_TEXT;
    public static final int END_OF_TEXT = ClipVocabulary.END_OF_TEXT;
    /** BPE ids that fit between the start and end tokens. */
    public static final int MAX_PROMPT_TOKENS = CONTEXT_LENGTH - 2;

    /** How the two reference tokenizers differ: the spelling of the special tokens, and the padding id. */
    public enum Style {
        /**
         * openai CLIP / transformers CLIPTokenizer, used by SD1.x and SDXL's first text encoder: a literal
         * {@code <|startoftext|>} or {@code <|endoftext|>} in the prompt is that special token; padding repeats
         * the end token.
         */
        SD1("<|startoftext|>", "<|endoftext|>", END_OF_TEXT),
        /**
         * open_clip.tokenize, used by SD2.x and SDXL's OpenCLIP encoder: the special tokens are spelt
         * {@code <start_of_text>} and {@code <end_of_text>}, so the openai spellings are ordinary text; padding is 0.
         */
        SD2("<start_of_text>", "<end_of_text>", 0);

        final String startToken;
        final String endToken;
        final int padId;

        Style(String startToken, String endToken, int padId) {
            this.startToken = startToken;
            this.endToken = endToken;
            this.padId = padId;
        }
    }

    private final ClipVocabulary vocab;
    private final BytePairEncoder bpe;
    private final Map<Style, Pattern> splitters = new EnumMap<>(Style.class);

    private ClipTokenizer(ClipVocabulary vocab) {
        this.vocab = vocab;
        this.bpe = new BytePairEncoder(vocab);
        for (Style style : Style.values()) {
            // contractions, letter runs, single digits, runs of other non-space characters
            splitters.put(style, Pattern.compile(Pattern.quote(style.startToken) + "|" + Pattern.quote(style.endToken)
                            + "|'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^\\s\\p{L}\\p{N}]+",
                    Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS));
        }
    }

    /** A tokenizer over the vocabulary bundled with ldm4j (the original openai CLIP merge list). */
    public static ClipTokenizer load() {
        ClipVocabulary vocab = ClipVocabulary.loadBundled();
        LOG.debug("CLIP vocabulary loaded: {} tokens", vocab.size());
        return new ClipTokenizer(vocab);
    }

    /** Number of token ids the vocabulary has (49408): ids from here on are free for embeddings. */
    public int vocabSize() {
        return vocab.size();
    }

    /** BPE ids of the prompt without start, end or padding, as openai CLIP's {@code SimpleTokenizer.encode}. */
    public int[] encode(String text) {
        return encode(text, Style.SD1);
    }

    /** BPE ids of the prompt without start, end or padding; {@code style} decides which special tokens exist. */
    public int[] encode(String text, Style style) {
        Objects.requireNonNull(text, "text");
        List<Integer> ids = new ArrayList<>();
        Matcher m = splitters.get(style).matcher(TextCleaner.clean(text));
        while (m.find()) {
            String piece = m.group();
            if (piece.equalsIgnoreCase(style.startToken)) {
                ids.add(START_OF_TEXT);
            } else if (piece.equalsIgnoreCase(style.endToken)) {
                ids.add(END_OF_TEXT);
            } else {
                bpe.encodeWord(piece, ids);
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * The {@value #CONTEXT_LENGTH} ids a text encoder takes: start token, the first {@value #MAX_PROMPT_TOKENS} BPE
     * ids, end token, padding. Longer prompts are cut (both reference tokenizers cut the same way).
     */
    public long[] inputIds(String text, Style style) {
        int[] ids = encode(text, style);
        long[] out = new long[CONTEXT_LENGTH];
        Arrays.fill(out, style.padId);
        out[0] = START_OF_TEXT;
        int n = Math.min(ids.length, MAX_PROMPT_TOKENS);
        for (int i = 0; i < n; i++) {
            out[i + 1] = ids[i];
        }
        out[n + 1] = END_OF_TEXT;
        return out;
    }

    /** {@link #inputIds} for SD1.x (and SDXL's CLIP ViT-L encoder). */
    public long[] sd1Ids(String text) {
        return inputIds(text, Style.SD1);
    }

    /** {@link #inputIds} for SD2.x (and SDXL's OpenCLIP encoder). */
    public long[] sd2Ids(String text) {
        return inputIds(text, Style.SD2);
    }

    /** The text of BPE ids, with word ends as spaces (as openai CLIP decodes); invalid UTF-8 becomes U+FFFD. */
    public String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) {
            String token = vocab.token(id);
            for (int i = 0; i < token.length(); i++) {
                bytes.write(vocab.byteOf(token.charAt(i)));
            }
        }
        return new String(bytes.toByteArray(), StandardCharsets.UTF_8).replace(ClipVocabulary.END_OF_WORD, " ");
    }

    /** The vocabulary entry of an id, e.g. {@code "photograph</w>"}. */
    public String token(int id) {
        return vocab.token(id);
    }

    public int vocabularySize() {
        return vocab.size();
    }
}
