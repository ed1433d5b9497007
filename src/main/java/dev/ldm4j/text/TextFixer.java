package dev.ldm4j.text;

import java.text.Normalizer;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The text repair that CLIP's tokenizer runs first (ftfy's {@code fix_text} with its default settings), as a Java
 * re-implementation: HTML references decoded when the text does not look like HTML, mojibake repaired, C1 controls
 * read as Windows-1252, Latin ligatures split, full-width forms narrowed, curly quotes straightened, line breaks
 * unified, lone surrogates replaced, terminal escapes and control characters removed, NFC. The fixes repeat until
 * the text stops changing.
 */
final class TextFixer {
    /** Latin ligatures and digraph letters, with their Unicode compatibility decompositions. */
    private static final Map<Character, String> LATIN_LIGATURES = Map.ofEntries(
            Map.entry('\u0132', "IJ"), Map.entry('\u0133', "ij"), Map.entry('\u0149', "\u02BCn"),
            Map.entry('\u01C4', "D\u017D"), Map.entry('\u01C5', "D\u017E"), Map.entry('\u01C6', "d\u017E"),
            Map.entry('\u01C7', "LJ"), Map.entry('\u01C8', "Lj"), Map.entry('\u01C9', "lj"),
            Map.entry('\u01CA', "NJ"), Map.entry('\u01CB', "Nj"), Map.entry('\u01CC', "nj"),
            Map.entry('\u01F1', "DZ"), Map.entry('\u01F2', "Dz"), Map.entry('\u01F3', "dz"),
            Map.entry('\uFB00', "ff"), Map.entry('\uFB01', "fi"), Map.entry('\uFB02', "fl"),
            Map.entry('\uFB03', "ffi"), Map.entry('\uFB04', "ffl"), Map.entry('\uFB05', "\u017Ft"),
            Map.entry('\uFB06', "st"));
    private static final Pattern TERMINAL_ESCAPE = Pattern.compile("\u001B\\[[\\p{Nd};]*[a-zA-Z]");

    private TextFixer() {}

    /** Fixes the text line by line; once a line contains '<', the text is taken for HTML and references stay. */
    static String fixText(String text) {
        StringBuilder out = new StringBuilder(text.length());
        boolean decodeReferences = true;
        int pos = 0;
        while (pos < text.length()) {
            int newline = text.indexOf('\n', pos);
            int end = newline < 0 ? text.length() : newline + 1;
            String line = text.substring(pos, end);
            decodeReferences &= line.indexOf('<') < 0;
            out.append(fixSegment(line, decodeReferences));
            pos = end;
        }
        return out.toString();
    }

    private static String fixSegment(String segment, boolean decodeReferences) {
        String text = segment;
        while (true) {
            String before = text;
            if (decodeReferences) {
                text = HtmlEntities.unescapeComplete(text);
            }
            text = MojibakeRepair.fix(text);
            text = fixC1Controls(text);
            text = fixLatinLigatures(text);
            text = fixCharacterWidth(text);
            text = uncurlQuotes(text);
            text = fixLineBreaks(text);
            text = fixSurrogates(text);
            text = TERMINAL_ESCAPE.matcher(text).replaceAll("");
            text = removeControlCharacters(text);
            text = Normalizer.normalize(text, Normalizer.Form.NFC);
            if (text.equals(before)) {
                return text;
            }
        }
    }

    /** C1 controls (U+0080-U+009F) are nearly always Windows-1252 bytes read as Latin-1. */
    static String fixC1Controls(String text) {
        return mapChars(text, c -> c >= 0x80 && c <= 0x9F ? String.valueOf(Windows1252.decode(c)) : null);
    }

    static String fixLatinLigatures(String text) {
        return mapChars(text, LATIN_LIGATURES::get);
    }

    /** Full-width ASCII and half-width CJK forms become their usual width; the ideographic space a space. */
    static String fixCharacterWidth(String text) {
        return mapChars(text, c -> {
            if (c == '\u3000') {
                return " ";
            }
            if (c >= '\uFF01' && c <= '\uFFEF') {
                String normal = Normalizer.normalize(String.valueOf(c), Normalizer.Form.NFKC);
                return normal.equals(String.valueOf(c)) ? null : normal;
            }
            return null;
        });
    }

    static String uncurlQuotes(String text) {
        return mapChars(text, c -> c == '\u02BC' || (c >= '\u2018' && c <= '\u201B') ? "'"
                : c >= '\u201C' && c <= '\u201F' ? "\"" : null);
    }

    static String fixLineBreaks(String text) {
        return text.replace("\r\n", "\n").replace('\r', '\n').replace('\u2028', '\n').replace('\u2029', '\n')
                .replace('\u0085', '\n');
    }

    /** Lone UTF-16 surrogates cannot be encoded; they become U+FFFD (valid pairs are already one code point). */
    static String fixSurrogates(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean paired = Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1));
            if (paired) {
                if (out != null) {
                    out.append(c).append(text.charAt(i + 1));
                }
                i++;
            } else if (Character.isSurrogate(c)) {
                if (out == null) {
                    out = new StringBuilder(text.length()).append(text, 0, i);
                }
                out.append('\uFFFD');
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? text : out.toString();
    }

    /**
     * Removes control characters except tab, line feed, form feed and carriage return, plus the deprecated
     * format characters U+206A-U+206F, the byte-order mark and the interlinear annotation characters.
     */
    static String removeControlCharacters(String text) {
        return mapChars(text, c -> (c < 0x20 && c != '\t' && c != '\n' && c != '\f' && c != '\r') || c == 0x7F
                || (c >= '\u206A' && c <= '\u206F') || c == '\uFEFF' || (c >= '\uFFF9' && c <= '\uFFFC') ? "" : null);
    }

    private interface CharMapping {
        /** The replacement of {@code c}, or null to keep it. */
        String map(char c);
    }

    private static String mapChars(String text, CharMapping mapping) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            String replacement = mapping.map(c);
            if (replacement != null && out == null) {
                out = new StringBuilder(text.length()).append(text, 0, i);
            }
            if (out != null) {
                if (replacement != null) {
                    out.append(replacement);
                } else {
                    out.append(c);
                }
            }
        }
        return out == null ? text : out.toString();
    }
}
