package dev.ldm4j.text;

/**
 * A run of prompt text with one attention weight, as AUTOMATIC1111's {@code parse_prompt_attention} produces it;
 * or, with text {@code "BREAK"} and weight exactly -1, the marker that starts a new 75-token chunk.
 *
 * @param text the literal text (escapes resolved, brackets removed); tokenized on its own
 * @param weight the product of the bracket factors around the text
 */
public record PromptSegment(String text, double weight) {
    static final String BREAK_TEXT = "BREAK";
    static final double BREAK_WEIGHT = -1;

    public PromptSegment {
        if (text == null) {
            throw new IllegalArgumentException("segment text is null");
        }
    }

    /** The chunk separator. */
    public static PromptSegment breakMarker() {
        return new PromptSegment(BREAK_TEXT, BREAK_WEIGHT);
    }

    /**
     * Whether this is the chunk separator. A BREAK inside brackets has had its weight multiplied and, as in
     * AUTOMATIC1111, is then the ordinary word "BREAK" with that weight.
     */
    public boolean isBreak() {
        return weight == BREAK_WEIGHT && text.equals(BREAK_TEXT);
    }
}
