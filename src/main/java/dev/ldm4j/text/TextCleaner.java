package dev.ldm4j.text;

import java.util.Locale;

/**
 * The normalization a prompt goes through before CLIP's BPE, as in the openai and open_clip tokenizers: text repair
 * (ftfy), HTML references decoded twice, runs of whitespace collapsed to one space, trimmed, lower-cased.
 */
public final class TextCleaner {
    private TextCleaner() {}

    public static String clean(String text) {
        String fixed = TextFixer.fixText(text);
        String unescaped = HtmlEntities.unescape(HtmlEntities.unescape(fixed));
        return collapseWhitespace(unescaped).toLowerCase(Locale.ROOT);
    }

    /** Every run of whitespace becomes one space, none at either end. */
    static String collapseWhitespace(String text) {
        StringBuilder out = new StringBuilder(text.length());
        boolean pendingSpace = false;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (isWhitespace(cp)) {
                pendingSpace = out.length() > 0;
            } else {
                if (pendingSpace) {
                    out.append(' ');
                    pendingSpace = false;
                }
                out.appendCodePoint(cp);
            }
        }
        return out.toString();
    }

    /**
     * Whitespace as Python's {@code str.isspace} and {@code re}'s {@code \s} define it: space separators plus the
     * characters of bidirectional class whitespace, segment separator or paragraph separator. This includes
     * U+001C-U+001F and U+0085, and excludes the zero-width space U+200B.
     */
    static boolean isWhitespace(int cp) {
        if (Character.getType(cp) == Character.SPACE_SEPARATOR) {
            return true;
        }
        byte bidi = Character.getDirectionality(cp);
        return bidi == Character.DIRECTIONALITY_WHITESPACE
                || bidi == Character.DIRECTIONALITY_SEGMENT_SEPARATOR
                || bidi == Character.DIRECTIONALITY_PARAGRAPH_SEPARATOR;
    }
}
