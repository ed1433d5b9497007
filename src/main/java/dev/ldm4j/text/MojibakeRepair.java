package dev.ldm4j.text;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Repairs mojibake of the most common kind: UTF-8 bytes that were decoded as Latin-1 or Windows-1252, so that every
 * non-ASCII character became a "lead" letter followed by one to three "continuation" symbols ({@code cafÃ©} for
 * {@code café}, {@code â€™} for {@code ’}). Repeated until nothing changes, which also undoes double encoding.
 *
 * <p>The decision follows ftfy's approach in spirit (not its tables): first look for character sequences that have
 * exactly the shape of a UTF-8 encoded character <em>and</em> are implausible as real text; only then re-encode the
 * whole text and decode it as UTF-8, which must succeed for every byte. When the text also holds characters no
 * single-byte code page has (emoji, CJK), only the unmistakable sequences are decoded, one by one.
 *
 * <p>What makes a sequence implausible: it contains a C1 control character; or it is a three- or four-character
 * sequence with a continuation that rarely follows a letter (anything but the common punctuation in
 * {@link #COMMON_AFTER_LETTERS}); or it is a two-character sequence led by Â, Ã, Î or Ð (mojibake of Latin-1,
 * Greek and Cyrillic letters), unless it ends in word-final punctuation in an upper-case context ("IRMÃ…"); or it is
 * led by another accented capital and its continuation is unusual after letters, in a lower-case context or next
 * to another such sequence. Capitals followed by a symbol in upper-case text ("NESTLÉ®", "QUEM É¿") are left alone.
 *
 * <p>Not handled (ftfy does some of these): mojibake through other code pages (Windows-1251/1250/1253/1254, MacRoman,
 * cp437), a lost 0xA0 byte that became a space, and "lossy" sequences holding U+FFFD.
 */
final class MojibakeRepair {
    /** Continuation symbols that routinely follow a letter in real text. */
    private static final String COMMON_AFTER_LETTERS =
            "\u00A0\u00AD\u00B4\u00B7\u00AB\u00BB\u2013\u2014\u2018\u2019\u201C\u201D\u2022\u2026\u2039\u203A";
    /** Leads of the mojibake of U+0080-U+00FF (Â, Ã), Greek (Î) and Cyrillic (Ð). */
    private static final String STRONG_LEADS = "\u00C2\u00C3\u00CE\u00D0";
    /** Word-final punctuation, which may follow a capital Ã or Â in Portuguese capitals ("IRMÃ…"). */
    private static final String WORD_FINAL = "\u2026\u2019\u201D\u00BB";

    private MojibakeRepair() {}

    /** The text with its UTF-8-as-single-byte mojibake decoded; unchanged when it does not look like mojibake. */
    static String fix(String text) {
        String current = text;
        while (true) {
            // every repair shortens the text, so this ends
            String next = fixOnce(current);
            if (next.equals(current)) {
                return current;
            }
            current = next;
        }
    }

    private static String fixOnce(String text) {
        if (text.chars().allMatch(c -> c < 0x80)) {
            return text;
        }
        List<Sequence> sequences = sequences(text);
        if (sequences.stream().noneMatch(Sequence::implausible)) {
            return text;
        }
        for (boolean latin1 : new boolean[] {true, false}) {
            byte[] bytes = encodeSingleByte(text, latin1);
            String decoded = bytes == null ? null : decodeUtf8(bytes);
            if (decoded != null) {
                return decoded;
            }
        }
        StringBuilder out = new StringBuilder(text.length());
        int pos = 0;
        for (Sequence s : sequences) {
            if (s.unmistakable()) {
                out.append(text, pos, s.start());
                byte[] bytes = new byte[s.end() - s.start()];
                for (int i = 0; i < bytes.length; i++) {
                    bytes[i] = (byte) singleByte(text.charAt(s.start() + i));
                }
                out.append(new String(bytes, StandardCharsets.UTF_8));
                pos = s.end();
            }
        }
        return out.append(text, pos, text.length()).toString();
    }

    /** A run of characters whose single-byte values form one valid multi-byte UTF-8 character. */
    private record Sequence(int start, int end, boolean implausible, boolean unmistakable) {}

    private static List<Sequence> sequences(String s) {
        List<int[]> shaped = new ArrayList<>();
        for (int i = 0; i < s.length(); i++) {
            int lead = singleByte(s.charAt(i));
            int n = lead >= 0xC2 && lead <= 0xDF ? 1 : lead >= 0xE0 && lead <= 0xEF ? 2 : lead >= 0xF0 && lead <= 0xF4 ? 3 : 0;
            if (n == 0 || i + n >= s.length() || !continuations(s, i + 1, i + 1 + n)) {
                continue;
            }
            int second = singleByte(s.charAt(i + 1));
            boolean overlongOrOutOfRange = (lead == 0xE0 && second < 0xA0) || (lead == 0xED && second > 0x9F)
                    || (lead == 0xF0 && second < 0x90) || (lead == 0xF4 && second > 0x8F);
            if (!overlongOrOutOfRange) {
                shaped.add(new int[] {i, i + 1 + n});
                i += n;
            }
        }
        List<Sequence> result = new ArrayList<>(shaped.size());
        for (int k = 0; k < shaped.size(); k++) {
            int start = shaped.get(k)[0];
            int end = shaped.get(k)[1];
            boolean c1 = false;
            for (int i = start + 1; i < end; i++) {
                c1 |= s.charAt(i) >= 0x80 && s.charAt(i) <= 0x9F;
            }
            boolean lowerCaseContext = (start > 0 && Character.isLowerCase(s.codePointBefore(start)))
                    || (end < s.length() && Character.isLowerCase(s.codePointAt(end)));
            boolean implausible;
            boolean unmistakable;
            if (end - start > 2) {
                implausible = c1 || unusualAfterLetters(s, start, end);
                unmistakable = implausible;
            } else if (STRONG_LEADS.indexOf(s.charAt(start)) >= 0) {
                boolean wordFinal = WORD_FINAL.indexOf(s.charAt(start + 1)) >= 0;
                implausible = c1 || !wordFinal || lowerCaseContext;
                unmistakable = c1 || !wordFinal;
            } else {
                boolean besideAnother = (k > 0 && shaped.get(k - 1)[1] == start
                                && unusualAfterLetters(s, shaped.get(k - 1)[0], start))
                        || (k + 1 < shaped.size() && shaped.get(k + 1)[0] == end
                                && unusualAfterLetters(s, end, shaped.get(k + 1)[1]));
                implausible = c1 || (unusualAfterLetters(s, start, end) && (lowerCaseContext || besideAnother));
                unmistakable = c1;
            }
            result.add(new Sequence(start, end, implausible, unmistakable));
        }
        return result;
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
