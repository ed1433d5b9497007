package dev.ldm4j.text;

import java.util.List;

/**
 * A prompt split into 77-position chunks, ready for the text encoder.
 *
 * @param segments the parsed prompt
 * @param chunks at least one chunk
 * @param tokenCount AUTOMATIC1111's token count (the "75/150" it shows): prompt tokens of the last chunk plus 75
 *     for every chunk before it
 */
public record PromptChunks(List<PromptSegment> segments, List<PromptChunk> chunks, int tokenCount) {
    public PromptChunks {
        segments = List.copyOf(segments);
        chunks = List.copyOf(chunks);
        if (chunks.isEmpty()) {
            throw new IllegalArgumentException("a prompt has at least one chunk");
        }
    }

    public int size() {
        return chunks.size();
    }

    /** Context positions the encoded prompt occupies: 77 per chunk. */
    public int contextLength() {
        return chunks.size() * ClipTokenizer.CONTEXT_LENGTH;
    }
}
