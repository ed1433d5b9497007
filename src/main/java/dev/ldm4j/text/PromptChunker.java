package dev.ldm4j.text;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Turns a prompt into 77-position chunks the way AUTOMATIC1111 does for prompts of any length: each parsed
 * segment is tokenized on its own, the tokens are packed in order into chunks of 75 with their weights, and each
 * chunk is wrapped as start token, 75 tokens (padded with the end token), end token.
 *
 * <p>Packing rules: a BREAK closes the current chunk; when a chunk is full and the next token is not a comma, the
 * tokens after the chunk's last comma move on to the next chunk if that comma is at most {@code commaBacktrack}
 * tokens back (so a comma-separated phrase is not cut in two); an empty prompt gives one chunk of padding. For SD2
 * (OpenCLIP) the positions after the first end token then become the pad id 0, as the reference feeds them.
 *
 * <p>A textual-inversion word ({@link TextualInversions}) becomes its vectors' ids, with the piece's weight; when
 * they do not fit in what is left of the chunk, the chunk is closed first and they start the next one
 * (AUTOMATIC1111's tokenize_line).
 */
public final class PromptChunker {
    /** Prompt tokens per chunk: the 77 positions less the start and end tokens. */
    public static final int CHUNK_TOKENS = ClipTokenizer.MAX_PROMPT_TOKENS;
    /** AUTOMATIC1111's default {@code comma_padding_backtrack}. */
    public static final int DEFAULT_COMMA_BACKTRACK = 20;

    private final ClipTokenizer tokenizer;
    private final ClipTokenizer.Style style;
    private final int commaBacktrack;
    private final int commaId;
    private final TextualInversions embeddings;

    public PromptChunker(ClipTokenizer tokenizer, ClipTokenizer.Style style) {
        this(tokenizer, style, TextualInversions.NONE);
    }

    public PromptChunker(ClipTokenizer tokenizer, ClipTokenizer.Style style, TextualInversions embeddings) {
        this(tokenizer, style, DEFAULT_COMMA_BACKTRACK, embeddings);
    }

    /** @param commaBacktrack how far back a comma may be to move the words after it on; 0 turns that off */
    public PromptChunker(ClipTokenizer tokenizer, ClipTokenizer.Style style, int commaBacktrack) {
        this(tokenizer, style, commaBacktrack, TextualInversions.NONE);
    }

    public PromptChunker(ClipTokenizer tokenizer, ClipTokenizer.Style style, int commaBacktrack,
                         TextualInversions embeddings) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.style = Objects.requireNonNull(style, "style");
        this.commaBacktrack = commaBacktrack;
        this.embeddings = Objects.requireNonNull(embeddings, "embeddings");
        int[] comma = tokenizer.encode(",", style);
        if (comma.length != 1) {
            throw new IllegalStateException("the vocabulary has no single token for ','");
        }
        this.commaId = comma[0];
    }

    public ClipTokenizer.Style style() {
        return style;
    }

    /** Parses {@code prompt} ({@link PromptParser}) and chunks it. */
    public PromptChunks chunk(String prompt) {
        return chunk(PromptParser.parse(prompt));
    }

    /** Chunks already parsed segments. */
    public PromptChunks chunk(List<PromptSegment> segments) {
        Packer packer = new Packer();
        for (PromptSegment segment : segments) {
            if (segment.isBreak()) {
                packer.close(false);
                continue;
            }
            float weight = (float) segment.weight();
            int[] ids = tokenizer.encode(segment.text(), style);
            for (int position = 0; position < ids.length; ) {
                packer.makeRoom(ids[position]);
                TextualInversions.Match word = embeddings.isEmpty() ? null : embeddings.match(ids, position);
                if (word == null) {
                    packer.append(ids[position], weight);
                    position++;
                    continue;
                }
                int n = word.embedding().vectors();
                if (packer.tokens.size() + n > CHUNK_TOKENS) {
                    packer.close(false);
                }
                for (int k = 0; k < n; k++) {
                    packer.append(word.firstId() + k, weight);
                }
                position += word.tokens();
            }
        }
        if (!packer.tokens.isEmpty() || packer.chunks.isEmpty()) {
            packer.close(true);
        }
        return new PromptChunks(segments, packer.chunks, packer.tokenCount);
    }

    /** The chunk being filled and the chunks closed so far. */
    private final class Packer {
        final List<PromptChunk> chunks = new ArrayList<>();
        List<Integer> tokens = new ArrayList<>();
        List<Float> weights = new ArrayList<>();
        int lastComma = -1;
        int tokenCount;

        /**
         * Before the token {@code id} is placed: a comma is remembered; a full chunk moves the words after a
         * near comma on, or is closed.
         */
        void makeRoom(int id) {
            if (id == commaId) {
                lastComma = tokens.size();
            } else if (commaBacktrack != 0 && tokens.size() == CHUNK_TOKENS && lastComma != -1
                    && tokens.size() - lastComma <= commaBacktrack) {
                int cut = lastComma + 1;
                List<Integer> movedTokens = new ArrayList<>(tokens.subList(cut, tokens.size()));
                List<Float> movedWeights = new ArrayList<>(weights.subList(cut, weights.size()));
                tokens.subList(cut, tokens.size()).clear();
                weights.subList(cut, weights.size()).clear();
                close(false);
                tokens = movedTokens;
                weights = movedWeights;
            }
            if (tokens.size() == CHUNK_TOKENS) {
                close(false);
            }
        }

        void append(int id, float weight) {
            tokens.add(id);
            weights.add(weight);
        }

        /** Pads and wraps the current chunk and starts an empty one; only the last chunk counts its real length. */
        void close(boolean last) {
            tokenCount += last ? tokens.size() : CHUNK_TOKENS;
            long[] ids = new long[ClipTokenizer.CONTEXT_LENGTH];
            float[] mult = new float[ClipTokenizer.CONTEXT_LENGTH];
            Arrays.fill(ids, ClipTokenizer.END_OF_TEXT);
            Arrays.fill(mult, 1f);
            ids[0] = ClipTokenizer.START_OF_TEXT;
            for (int i = 0; i < tokens.size(); i++) {
                ids[i + 1] = tokens.get(i);
                mult[i + 1] = weights.get(i);
            }
            padAfterFirstEnd(ids);
            chunks.add(new PromptChunk(ids, mult));
            tokens = new ArrayList<>();
            weights = new ArrayList<>();
            lastComma = -1;
        }

        private void padAfterFirstEnd(long[] ids) {
            if (style.padId == ClipTokenizer.END_OF_TEXT) {
                return;
            }
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] == ClipTokenizer.END_OF_TEXT) {
                    Arrays.fill(ids, i + 1, ids.length, style.padId);
                    return;
                }
            }
        }
    }
}
