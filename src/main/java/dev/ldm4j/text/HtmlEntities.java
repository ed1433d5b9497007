package dev.ldm4j.text;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decoding of HTML character references, in the two flavours the CLIP text cleaning applies one after the other:
 * {@link #unescape} follows the HTML5 parsing rules as Python's {@code html.unescape} implements them (legacy names
 * without a semicolon, longest-prefix matching, the Windows-1252 remapping of numeric references to C1 controls),
 * {@link #unescapeComplete} is the cautious decoding of ftfy, which only touches complete references ending in ';'.
 */
final class HtmlEntities {
    private static final String RESOURCE = "html5_entities.txt";

    /** What the HTML5 tokenizer may take for a reference: numeric, or up to 32 name characters. */
    private static final Pattern REFERENCE =
            Pattern.compile("&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\\t\\n\\f <&#;]{1,32};?)");
    /** A complete, terminated reference, as ftfy looks for them. */
    private static final Pattern COMPLETE_REFERENCE = Pattern.compile("&#?[0-9A-Za-z]{1,24};");

    private HtmlEntities() {}

    /** Read once, on first use; immutable afterwards. */
    private static final class Tables {
        /** Entity name (with its ';' where the standard spells it so) to replacement text. */
        static final Map<String, String> NAMED = readNamed();
        /** "&amp;name;" to replacement text, plus upper-cased spellings of lower-case names (see below). */
        static final Map<String, String> COMPLETE = completeReferences(NAMED);
    }

    /** Python {@code html.unescape}: replaces every character reference the way an HTML5 parser would. */
    static String unescape(String text) {
        return text.indexOf('&') < 0 ? text : replaceAll(REFERENCE, text, m -> decodeReference(m.group(1), Tables.NAMED));
    }

    /**
     * ftfy's HTML unescaping: only complete references ({@code &name;} or {@code &#number;}) are decoded. A name that
     * is a lower-case entity written in upper case ({@code &EACUTE;}) decodes to the upper-cased character, as long as
     * the upper-case spelling is not itself an entity or the start of one.
     */
    static String unescapeComplete(String text) {
        if (text.indexOf('&') < 0) {
            return text;
        }
        return replaceAll(COMPLETE_REFERENCE, text, m -> {
            String ref = m.group();
            String named = Tables.COMPLETE.get(ref);
            if (named != null) {
                return named;
            }
            if (ref.startsWith("&#")) {
                // a reference that only partly decodes (e.g. "&#x41x;") is left alone
                String decoded = unescape(ref);
                return decoded.indexOf(';') >= 0 ? ref : decoded;
            }
            return ref;
        });
    }

    private static String decodeReference(String ref, Map<String, String> named) {
        if (ref.charAt(0) == '#') {
            boolean hex = ref.length() > 1 && (ref.charAt(1) == 'x' || ref.charAt(1) == 'X');
            String digits = ref.substring(hex ? 2 : 1, ref.endsWith(";") ? ref.length() - 1 : ref.length());
            BigInteger value = new BigInteger(digits, hex ? 16 : 10);
            return numericReference(value.bitLength() > 31 ? Integer.MAX_VALUE : value.intValue());
        }
        String value = named.get(ref);
        if (value != null) {
            return value;
        }
        // HTML5: the longest entity name that starts the text wins; the rest stays as written
        for (int end = ref.length() - 1; end > 1; end--) {
            value = named.get(ref.substring(0, end));
            if (value != null) {
                return value + ref.substring(end);
            }
        }
        return "&" + ref;
    }

    private static String numericReference(int cp) {
        if (cp == 0) {
            return "\uFFFD";
        }
        if (cp == 0x0D) {
            return "\r";
        }
        if (cp >= 0x80 && cp <= 0x9F) {
            // HTML5 reads these numbers as Windows-1252 bytes
            return String.valueOf(Windows1252.decode(cp));
        }
        if (cp > Character.MAX_CODE_POINT || (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE)) {
            return "\uFFFD";
        }
        boolean disallowed = (cp >= 0x01 && cp <= 0x08) || cp == 0x0B || (cp >= 0x0E && cp <= 0x1F)
                || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
        return disallowed ? "" : new String(Character.toChars(cp));
    }

    private static Map<String, String> completeReferences(Map<String, String> named) {
        Map<String, String> complete = new HashMap<>();
        for (Map.Entry<String, String> e : named.entrySet()) {
            String name = e.getKey();
            if (!name.endsWith(";")) {
                continue;
            }
            complete.put("&" + name, e.getValue());
            if (name.equals(name.toLowerCase(Locale.ROOT))) {
                String upper = "&" + name.toUpperCase(Locale.ROOT);
                if (replaceAll(REFERENCE, upper, m -> decodeReference(m.group(1), named)).equals(upper)) {
                    complete.put(upper, e.getValue().toUpperCase(Locale.ROOT));
                }
            }
        }
        return Map.copyOf(complete);
    }

    private static Map<String, String> readNamed() {
        Map<String, String> named = new HashMap<>();
        try (InputStream in = HtmlEntities.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing classpath resource dev/ldm4j/text/" + RESOURCE);
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String[] nameAndCodePoints = line.split("\t");
                StringBuilder value = new StringBuilder();
                for (String hex : nameAndCodePoints[1].split(" ")) {
                    value.appendCodePoint(Integer.parseInt(hex, 16));
                }
                named.put(nameAndCodePoints[0], value.toString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
        return Map.copyOf(named);
    }

    private static String replaceAll(Pattern pattern, String text, Function<MatchResult, String> replacement) {
        return pattern.matcher(text).replaceAll(m -> Matcher.quoteReplacement(replacement.apply(m)));
    }
}
