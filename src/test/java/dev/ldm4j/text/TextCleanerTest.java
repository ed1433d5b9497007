package dev.ldm4j.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Expected values are the openai CLIP cleaning (ftfy 6.3.1, html.unescape twice, re \s+, strip, lower) in Python. */
class TextCleanerTest {
    @Test
    void whitespaceIsPythonsWhitespace() {
        // VT and FS are removed by the text repair first, NEL becomes an ellipsis; ZWSP and U+180E are not spaces
        assertEquals("tab vtff fsnel\u2026nbsp em zwsp\u200Bideo nnbsp mmsp \u180Eend", TextCleaner.clean(
                "\u2003Tab\tVT\u000BFF\fFS\u001CNEL\u0085NBSP\u00A0EM\u2003ZWSP\u200BIDEO\u3000NNBSP\u202FMMSP\u205F\u180EEnd\u2029"));
    }

    @Test
    void lowerCasesWithFullUnicodeMappings() {
        assertEquals("\u03C3\u03B1\u03C2 i\u0307stanbul d\u017E ffi", TextCleaner.clean("\u03A3\u0391\u03A3 \u0130stanbul \u01C5 \uFB03"));
    }

    @Test
    void entitiesAreDecodedByTheRepairAndTwiceMore() {
        assertEquals("<b> & tom & jerry", TextCleaner.clean("&amp;lt;b&amp;gt; &amp;amp;amp;amp; Tom &amp; Jerry"));
    }
}
