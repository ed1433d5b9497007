package dev.ldm4j.text;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Repairs mojibake of the most common kind: UTF-8 bytes that were decoded as Latin-1 or Windows-1252, so that every
 * non-ASCII character became a "lead" letter followed by one to three "continuation" symbols ({@code cafÃ©} for
 * {@code café}, {@code â€™} for {@code ’}). Repeated, which also undoes double encoding.
 *
 * <p>The decision follows ftfy's approach in spirit (not its tables). First find runs of characters whose single-byte
 * values are well-formed multi-byte UTF-8, and keep the runs that are implausible as real text. If there is one,
 * re-encode the whole text and decode it as UTF-8, which must succeed for every byte. If the text also holds
 * characters no single-byte code page has (emoji, CJK) or real accented letters, decode just the implausible runs.
 *
 * <p>A run is implausible when it contains a C1 control character; or a three- or four-character sequence with a
 * continuation other than the punctuation that commonly follows letters ({@link #COMMON_AFTER_LETTERS}); or a
 * two-character sequence led by Â, Ã, Î or Ð (mojibake of Latin-1, Greek and Cyrillic letters), except Ã or Ð
 * ending an upper-case word before punctuation ("IRMÃ…", "IRMÃ’s"); or an accented capital followed by an unusual
 * symbol, inside lower-case text or next to another such sequence. Capitals followed by a symbol in upper-case
 * text ("NESTLÉ®", "QUEM É¿") are left alone. "Ã " after a lower-case letter is also taken as mojibake of "à" whose
 * 0xA0 byte became a space.
 *
 * <p>Not handled (ftfy does some of these): mojibake through other code pages (Windows-1251/1250/1253/1254, MacRoman,
 * cp437) and "lossy" sequences holding U+FFFD. On ftfy's own test cases and on random prompts with injected mojibake
 * the results agree with ftfy 6.3.1 except on partial mojibake, where either may leave a sequence undecoded.
 */
final class MojibakeRepair {
    /** Continuation symbols that routinely follow a letter in real text. */
    private static final String COMMON_AFTER_LETTERS =
            "\u00A0\u00AD\u00B4\u00B7\u00AB\u00BB\u2013\u2014\u2018\u2019\u201C\u201D\u2022\u2026\u2039\u203A";
    /** Leads of the mojibake of U+0080-U+00FF (Â, Ã), Greek (Î) and Cyrillic (Ð). */
    private static final String STRONG_LEADS = "\u00C2\u00C3\u00CE\u00D0";
    /** Strong leads that end words in upper-case text: Portuguese Ã ("IRMÃ…", "IRMÃ’s"), Icelandic Ð. */
    private static final String WORD_FINAL_LEADS = "\u00C3\u00D0";
    /** Punctuation that may follow the last letter of a word. */
    private static final String WORD_FINAL = "\u2026\u2019\u201D\u00BB";
    /** Leads whose UTF-8 continuation 0xA0 is often lost, turned into a space: "Ã " for "à", "Ð " for "Р". */
    private static final String NBSP_LEADS = "\u00C2\u00C3\u00C5\u00CE\u00D0\u00D9";

    private static final int MAX_PASSES = 16;

    private MojibakeRepair() {}

    /** The text with its UTF-8-as-single-byte mojibake decoded; unchanged when it does not look like mojibake. */
    static String fix(String text) {
        String current = text;
        // each pass removes a layer of encoding; real text has at most a few
        for (int pass = 0; pass < MAX_PASSES; pass++) {
            String next = fixOnce(current);
            if (next.equals(current)) {
                break;
            }
            current = next;
        }
        return current;
    }

    private static String fixOnce(String text) {
        if (text.chars().allMatch(c -> c < 0x80)) {
            return text;
        }
        List<Run> suspects = runs(text).stream().filter(r -> implausible(text, r)).toList();
        if (suspects.isEmpty() && !lostNbspAfterLowerCase(text)) {
            return text;
        }
        for (boolean latin1 : new boolean[] {true, false}) {
            byte[] bytes = encodeSingleByte(text, latin1);
            if (bytes != null) {
                String decoded = decodeUtf8(bytes);
                if (decoded == null) {
                    decoded = decodeUtf8(restoreLostNbsp(bytes));
                }
                if (decoded != null) {
                    return decoded;
                }
            }
        }
        // the rest of the text does not decode (emoji, CJK, or real accented letters): repair the suspects alone
        StringBuilder out = new StringBuilder(text.length());
        int pos = 0;
        for (Run run : suspects) {
            byte[] bytes = new byte[run.end() - run.start()];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) singleByte(text.charAt(run.start() + i));
            }
            out.append(text, pos, run.start()).append(new String(bytes, StandardCharsets.UTF_8));
            pos = run.end();
        }
        return out.append(text, pos, text.length()).toString();
    }

    /**
     * Adjacent characters whose single-byte values are valid multi-byte UTF-8: {@code starts[k]} is where the k-th
     * encoded character begins, {@code end} where the last one ends.
     */
    private record Run(int[] starts, int end) {
        int start() {
            return starts[0];
        }

        int sequenceEnd(int k) {
            return k + 1 < starts.length ? starts[k + 1] : end;
        }
    }

    private static List<Run> runs(String s) {
        List<Run> runs = new ArrayList<>();
        List<Integer> starts = new ArrayList<>();
        int runEnd = -1;
        for (int i = 0; i < s.length(); i++) {
            int length = utf8SequenceLength(s, i);
            if (length == 0) {
                continue;
            }
            if (i != runEnd && !starts.isEmpty()) {
                runs.add(new Run(starts.stream().mapToInt(Integer::intValue).toArray(), runEnd));
                starts.clear();
            }
            starts.add(i);
            runEnd = i + length;
            i = runEnd - 1;
        }
        if (!starts.isEmpty()) {
            runs.add(new Run(starts.stream().mapToInt(Integer::intValue).toArray(), runEnd));
        }
        return runs;
    }

    /** Length of the UTF-8 character whose single-byte encoding starts at {@code i}, or 0 if there is none. */
    private static int utf8SequenceLength(String s, int i) {
        int lead = singleByte(s.charAt(i));
        int n = lead >= 0xC2 && lead <= 0xDF ? 1 : lead >= 0xE0 && lead <= 0xEF ? 2 : lead >= 0xF0 && lead <= 0xF4 ? 3 : 0;
        if (n == 0 || i + n >= s.length() || !continuations(s, i + 1, i + 1 + n)) {
            return 0;
        }
        int second = singleByte(s.charAt(i + 1));
        boolean overlongOrOutOfRange = (lead == 0xE0 && second < 0xA0) || (lead == 0xED && second > 0x9F)
                || (lead == 0xF0 && second < 0x90) || (lead == 0xF4 && second > 0x8F);
        return overlongOrOutOfRange ? 0 : n + 1;
    }

    private static boolean implausible(String s, Run run) {
        boolean lowerCaseBefore = run.start() > 0 && Character.isLowerCase(s.codePointBefore(run.start()));
        boolean lowerCaseContext = lowerCaseBefore
                || (run.end() < s.length() && Character.isLowerCase(s.codePointAt(run.end())));
        boolean wordCharAfter = run.end() < s.length() && Character.isLetterOrDigit(s.codePointAt(run.end()));
        boolean anyUnusual = false;
        for (int k = 0; k < run.starts().length; k++) {
            int start = run.starts()[k];
            int end = run.sequenceEnd(k);
            boolean unusual = unusualAfterLetters(s, start, end);
            anyUnusual |= unusual;
            for (int i = start + 1; i < end; i++) {
                if (s.charAt(i) >= 0x80 && s.charAt(i) <= 0x9F) {
                    return true; // a C1 control has no business in text
                }
            }
            if (end - start > 2 && unusual) {
                return true;
            }
            if (end - start == 2 && STRONG_LEADS.indexOf(s.charAt(start)) >= 0) {
                char next = s.charAt(start + 1);
                boolean followedByWord = k + 1 < run.starts().length || wordCharAfter;
                boolean mayEndWord = WORD_FINAL_LEADS.indexOf(s.charAt(start)) >= 0 && WORD_FINAL.indexOf(next) >= 0;
                // after an apostrophe, a letter is the possessive or a contraction ("IRMÃ’s"), not more mojibake
                boolean implausibleEnding = next == '\u2019' ? lowerCaseBefore : lowerCaseContext || followedByWord;
                if (!mayEndWord || implausibleEnding) {
                    return true;
                }
            }
        }
        // accented capitals followed by symbols: mojibake inside lower-case words or several in a row
        return anyUnusual && (lowerCaseContext || run.starts().length > 1);
    }

    private static boolean continuations(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            int b = singleByte(s.charAt(i));
            if (b < 0x80 || b > 0xBF) {
                return false;
            }
        }
        return true;
    }

    private static boolean unusualAfterLetters(String s, int start, int end) {
        for (int i = start + 1; i < end; i++) {
            if (COMMON_AFTER_LETTERS.indexOf(s.charAt(i)) < 0) {
                return true;
            }
        }
        return false;
    }

    /** The byte a character has in Latin-1 or (sloppy) Windows-1252, or -1. */
    private static int singleByte(char c) {
        return c <= 0xFF ? c : Windows1252.encode(c);
    }

    /** "Ã " after a lower-case letter (or starting the text): "voilÃ  le travail" for "voilà le travail". */
    private static boolean lostNbspAfterLowerCase(String s) {
        for (int i = s.indexOf("\u00C3 "); i >= 0; i = s.indexOf("\u00C3 ", i + 1)) {
            int before = i > 1 && s.charAt(i - 1) == ' ' ? i - 2 : i - 1;
            if (i == 0 || (before >= 0 && Character.isLowerCase(s.charAt(before)))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Puts back an 0xA0 continuation byte that became a space after one of {@link #NBSP_LEADS}' bytes. When two spaces
     * follow, the first was the lost byte; a single space is taken to be both the lost byte and a word break.
     */
    private static byte[] restoreLostNbsp(byte[] bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length + 8);
        for (int i = 0; i < bytes.length; i++) {
            out.write(bytes[i]);
            if (i + 1 < bytes.length && bytes[i + 1] == ' ' && NBSP_LEADS.indexOf((char) (bytes[i] & 0xFF)) >= 0) {
                out.write(0xA0);
                if (i + 2 < bytes.length && bytes[i + 2] == ' ') {
                    i++;
                }
            }
        }
        return out.toByteArray();
    }

    /** The text in Latin-1 or in sloppy Windows-1252, or null if some character has no byte there. */
    private static byte[] encodeSingleByte(String text, boolean latin1) {
        byte[] bytes = new byte[text.length()];
        for (int i = 0; i < bytes.length; i++) {
            char c = text.charAt(i);
            int b = latin1 ? (c <= 0xFF ? c : -1) : Windows1252.encode(c);
            if (b < 0) {
                return null;
            }
            bytes[i] = (byte) b;
        }
        return bytes;
    }

    /** Strict UTF-8 decoding, or null if the bytes are not well-formed UTF-8. */
    private static String decodeUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
