package dev.ldm4j.text;

import java.util.Arrays;

/**
 * One 77-position window of a long prompt: start token, 75 prompt tokens (padded), end token, and the weight of
 * each position (1 on the start, end and padding positions). Arrays are copied in and out.
 *
 * @param inputIds the ids the text encoder sees ({@link ClipTokenizer#CONTEXT_LENGTH} of them); for SD2 the
 *     positions after the first end token hold the pad id 0
 * @param multipliers the weight of each position, rounded to float32 as the reference does
 */
public record PromptChunk(long[] inputIds, float[] multipliers) {
    public PromptChunk {
        if (inputIds.length != ClipTokenizer.CONTEXT_LENGTH || multipliers.length != ClipTokenizer.CONTEXT_LENGTH) {
            throw new IllegalArgumentException("a prompt chunk has " + ClipTokenizer.CONTEXT_LENGTH
                    + " positions, got " + inputIds.length + " ids and " + multipliers.length + " multipliers");
        }
        inputIds = inputIds.clone();
        multipliers = multipliers.clone();
    }

    @Override
    public long[] inputIds() {
        return inputIds.clone();
    }

    @Override
    public float[] multipliers() {
        return multipliers.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PromptChunk c && Arrays.equals(inputIds, c.inputIds)
                && Arrays.equals(multipliers, c.multipliers);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(inputIds) + Arrays.hashCode(multipliers);
    }

    @Override
    public String toString() {
        return "PromptChunk[inputIds=" + Arrays.toString(inputIds) + ", multipliers=" + Arrays.toString(multipliers)
                + "]";
    }
}
