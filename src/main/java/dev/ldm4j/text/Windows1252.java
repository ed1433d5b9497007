package dev.ldm4j.text;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.util.HashMap;
import java.util.Map;

/**
 * The 0x80-0x9F block of Windows-1252, read "sloppily": the five bytes Windows-1252 leaves undefined stand for the
 * C1 control character of the same number (as in Latin-1), so every byte has a character and back. The rest of the
 * code page agrees with Latin-1.
 */
final class Windows1252 {
    private static final String HIGH_BLOCK;
    private static final Map<Character, Integer> BYTE_OF;

    static {
        Charset cp1252 = Charset.forName("windows-1252");
        StringBuilder block = new StringBuilder(32);
        Map<Character, Integer> byteOf = new HashMap<>();
        for (int b = 0x80; b <= 0x9F; b++) {
            char c = cp1252.decode(ByteBuffer.wrap(new byte[] {(byte) b})).charAt(0);
            char sloppy = c == '\uFFFD' ? (char) b : c;
            block.append(sloppy);
            byteOf.put(sloppy, b);
        }
        HIGH_BLOCK = block.toString();
        BYTE_OF = Map.copyOf(byteOf);
    }

    private Windows1252() {}

    /** The character of byte {@code b} (0-255). */
    static char decode(int b) {
        return b >= 0x80 && b <= 0x9F ? HIGH_BLOCK.charAt(b - 0x80) : (char) b;
    }

    /** The byte of {@code c} in sloppy Windows-1252, or -1 if it has none (C1 controls that 1252 redefines). */
    static int encode(char c) {
        if (c < 0x80 || (c >= 0xA0 && c <= 0xFF)) {
            return c;
        }
        Integer b = BYTE_OF.get(c);
        return b == null ? -1 : b;
    }
}
