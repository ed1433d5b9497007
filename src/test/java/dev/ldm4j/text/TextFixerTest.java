package dev.ldm4j.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Text repair beyond the tokenizer fixtures. Every expected value is the output of ftfy 6.3.1's {@code fix_text}
 * (the library the reference tokenizers call) on the same input; many inputs are from ftfy's own test cases:
 * entity handling around HTML tags, per-character fixes, mojibake that must be repaired and look-alike text that
 * must be left alone.
 */
class TextFixerTest {
    static Stream<Arguments> ftfyOutputs() {
        return Stream.of(
                Arguments.of("&amp;amp;amp;", "&"),
                Arguments.of("<b>&amp;amp;</b>", "<b>&amp;amp;</b>"),
                Arguments.of("a &amp; b\n<c> &amp;", "a & b\n<c> &amp;"),
                Arguments.of("<c> &amp;\na &amp; b", "<c> &amp;\na &amp; b"),
                Arguments.of("&EACUTE; &eacute &Amp; &#x41x; &#65 &#x2019;", "\u00C9 &eacute &Amp; &#x41x; &#65 '"),
                Arguments.of("a\u0085b", "a\u2026b"),
                Arguments.of("\uFB05 \uFB01 \u0132 \u0149 \u01C5", "\u017Ft fi IJ 'n D\u017E"),
                Arguments.of("\uFEFFa\u200Bb\u206Ac", "a\u200Bbc"),
                Arguments.of("\uFF76\uFF80\uFF76\uFF85\u3000\uFF41", "\u30AB\u30BF\u30AB\u30CA a"),
                Arguments.of("\u02BCquote\u02BC \u201Alow\u201B \u201Ex\u201F", "'quote' 'low' \"x\""),
                Arguments.of("\u001B[31mred\u001B[0m", "red"),
                Arguments.of("l\u2028m\u2029n\rq\r\nr", "l\nm\nn\nq\nr"),
                Arguments.of("bad\uD800surrogate", "bad\uFFFDsurrogate"),
                Arguments.of("control\u0007chars\u001Bhere\u0000nul\u007F", "controlcharsherenul"),
                Arguments.of("caf\u00C3\u00A9 \u00C3\u00BCber na\u00C3\u00AFve", "caf\u00E9 \u00FCber na\u00EFve"),
                Arguments.of("\u00E2\u20AC\u0153quoted\u00E2\u20AC\u009D", "\"quoted\""),
                Arguments.of("\u00C3\u0192\u00C2\u00A9", "\u00E9"),
                Arguments.of("caf\u00C3\u00A9 \uD83D\uDC31", "caf\u00E9 \uD83D\uDC31"),
                Arguments.of("voil\u00C3  le travail", "voil\u00E0 le travail"),
                Arguments.of("ao\u00C3\u00BBt", "ao\u00FBt"),
                Arguments.of("H\u00C3\u201DTEL", "H\u00D4TEL"),
                Arguments.of("C\u00C3\u2122IS", "C\u00D9IS"),
                Arguments.of("O\u00C3\u2122 ET QUAND?", "O\u00D9 ET QUAND?"),
                Arguments.of("\u00E2\u0080\u009Cmismatched quotes\u0085\u0094", "\"mismatched quotes\u2026\""),
                Arguments.of("\u00E2\u20AC\u0153mismatched quotes\u00E2\u20AC\u00A6\u201D", "\"mismatched quotes\u2026\""),
                Arguments.of("\u00E4\u00B8\u00AD\u00E6\u2013\u2021 \u00F0\u0178\u02DC\u20AC", "\u4E2D\u6587 \uD83D\uDE00"),
                Arguments.of("\u00D0\u00BF\u00D1\u20AC\u00D0\u00B8\u00D0\u00B2\u00D0\u00B5\u00D1\u201A", "\u043F\u0440\u0438\u0432\u0435\u0442"),
                Arguments.of("\u00CE\u00B1\u00CE\u00B2\u00CE\u00B3", "\u03B1\u03B2\u03B3"),
                Arguments.of("NESTL\u00C9\u00AE requiere", "NESTL\u00C9\u00AE requiere"),
                Arguments.of("ESSE CARA AI QUEM \u00C9\u00BF", "ESSE CARA AI QUEM \u00C9\u00BF"),
                Arguments.of("Offering 5\u00D7\u00A335 pin ups", "Offering 5\u00D7\u00A335 pin ups"),
                Arguments.of("IL Y MARQU\u00C9\u2026", "IL Y MARQU\u00C9\u2026"),
                Arguments.of("I'm not such a fan of Charlotte Bront\u00EB\u2026\u201D", "I'm not such a fan of Charlotte Bront\u00EB\u2026\""),
                Arguments.of("AH\u00C5\u2122, the new sofa from IKEA", "AH\u00C5\u2122, the new sofa from IKEA"),
                Arguments.of("a radius of 10 \u00C5\u2014", "a radius of 10 \u00C5\u2014"),
                Arguments.of("!YO S\u00C9\u00A1", "!YO S\u00C9\u00A1"),
                Arguments.of("SELK\u00C4\u00A0EDELL\u00C4\u00A0MAAHAN", "SELK\u00C4\u00A0EDELL\u00C4\u00A0MAAHAN"),
                Arguments.of("pra l\u00E1\u00B4\u00B4", "pra l\u00E1\u00B4\u00B4"),
                Arguments.of("HUHLL \u00D5\u2026", "HUHLL \u00D5\u2026"),
                Arguments.of("Join ZZAJ\u00C9\u2019s Official Fan List", "Join ZZAJ\u00C9's Official Fan List"),
                Arguments.of("There are a lot of \u00C3\u2019s in mojibake text", "There are a lot of \u00C3's in mojibake text"),
                Arguments.of("C O N C L U S \u00C3 O", "C O N C L U S \u00C3 O"),
                Arguments.of("M\u00C4\u00A3\u00C4M \u00CC\u00D1\u00CC Q \u00A3\u00C4G\u00CC", "M\u00C4\u00A3\u00C4M \u00CC\u00D1\u00CC Q \u00A3\u00C4G\u00CC"),
                Arguments.of("4288\u00D7\u2026", "4288\u00D7\u2026"),
                Arguments.of("ammaccato,\u00A0\u00E8 come", "ammaccato,\u00A0\u00E8 come"),
                Arguments.of("parl\u00E9\u0085 Tu sais", "parl\u00E9\u2026 Tu sais"),
                Arguments.of("H\u00C5\u00D8YA ER BL\u00C5\u00D8YD", "H\u00C5\u00D8YA ER BL\u00C5\u00D8YD"),
                Arguments.of("NICIODAT\u0102\u2122", "NICIODAT\u0102\u2122"),
                Arguments.of("\u00D4\u00F4\u00F4 VIDA MINHA", "\u00D4\u00F4\u00F4 VIDA MINHA"),
                Arguments.of("[x]\u00A0\u00A9", "[x]\u00A0\u00A9"),
                Arguments.of("( o\u00AC\u00F4 )", "( o\u00AC\u00F4 )")        );
    }

    @ParameterizedTest
    @MethodSource("ftfyOutputs")
    void fixesTextLikeFtfy(String input, String expected) {
        assertEquals(expected, TextFixer.fixText(input));
    }
}
