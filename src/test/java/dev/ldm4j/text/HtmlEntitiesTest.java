package dev.ldm4j.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Expected values are Python 3.11's {@code html.unescape} on the same input (what CLIP's cleaning calls twice). */
class HtmlEntitiesTest {
    static Stream<Arguments> pythonUnescape() {
        return Stream.of(
                Arguments.of("&amp; &lt;b&gt; &quot;x&quot; &#39;y&#39;", "& <b> \"x\" 'y'"),
                Arguments.of("&copy &copy; &COPY &eacute &eacutex &amp;amp;", "\u00A9 \u00A9 \u00A9 \u00E9 \u00E9x &amp;"),
                Arguments.of("&notit; &notin; &noti", "\u00ACit; \u2209 \u00ACi"),
                Arguments.of("&#65;&#x41;&#X41&#65x", "AAAAx"),
                Arguments.of("&#0; &#13; &#128; &#129; &#150; &#x9F;", "\uFFFD \r \u20AC \u0081 \u2013 \u0178"),
                Arguments.of("&#1; &#11; &#12; &#xFDD0; &#xFFFE; &#x10FFFF; &#x110000; &#xD800; &#99999999999999999999;", "  \f    \uFFFD \uFFFD \uFFFD"),
                Arguments.of("&#128512; &#x1F600;", "\uD83D\uDE00 \uD83D\uDE00"),
                Arguments.of("&CounterClockwiseContourIntegral; &NotNestedGreaterGreater; &nbsp;&zwnj;", "\u2233 \u2AA2\u0338 \u00A0\u200C"),
                Arguments.of("& amp; &; &#; &#x; &ampamp; &AMP; &Amp;", "& amp; &; &#; &#x; &amp; & &Amp;"),
                Arguments.of("no entities here", "no entities here"),
                Arguments.of("&lt&gt&amp", "<>&"),
                Arguments.of("&fjlig; &ThickSpace;", "fj \u205F\u200A"),
                Arguments.of("&#x26;amp;", "&amp;")        );
    }

    @ParameterizedTest
    @MethodSource("pythonUnescape")
    void unescapesLikePython(String input, String expected) {
        assertEquals(expected, HtmlEntities.unescape(input));
    }

    @Test
    void completeReferencesOnlyAsFtfyDecodesThem() {
        // ftfy 6.3.1 fixes.unescape_html on the same input
        assertEquals("\u00E1\u00C1\u00C1 < &lt A &#65 &#x41x; \u2209 &notit; \u2026 \u00C2 &amp &AMP & &Amp;",
                HtmlEntities.unescapeComplete(
                        "&aacute;&AACUTE;&Aacute; &LT; &lt &#X41; &#65 &#x41x; &notin; &notit; &HELLIP; &ACIRC; &amp &AMP &AMP; &Amp;"));
    }
}
