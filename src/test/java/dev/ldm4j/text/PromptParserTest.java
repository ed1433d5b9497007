package dev.ldm4j.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ldm4j.Fixtures;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PromptParserTest {
    private static PromptSegment seg(String text, double weight) {
        return new PromptSegment(text, weight);
    }

    private static void assertParsed(String prompt, PromptSegment... expected) {
        // weights compared exactly: they are products of the same doubles in the same order as the reference
        assertEquals(List.of(expected), PromptParser.parse(prompt), prompt);
    }

    @Test
    void referenceDocumentedExamples() {
        assertParsed("normal text", seg("normal text", 1.0));
        assertParsed("an (important) word", seg("an ", 1.0), seg("important", 1.1), seg(" word", 1.0));
        assertParsed("(unbalanced", seg("unbalanced", 1.1));
        assertParsed("\\(literal\\]", seg("(literal]", 1.0));
        assertParsed("(unnecessary)(parens)", seg("unnecessaryparens", 1.1));
        assertParsed("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).",
                seg("a ", 1.0),
                seg("house", 1.5730000000000004),
                seg(" ", 1.1),
                seg("on", 1.0),
                seg(" a ", 1.1),
                seg("hill", 0.55),
                seg(", sun, ", 1.1),
                seg("sky", 1.4641000000000006),
                seg(".", 1.1));
    }

    @Test
    void manifestParsedListsMatch() {
        for (JsonNode c : Fixtures.manifest("prompts").get("cases")) {
            JsonNode p = c.get("params");
            List<PromptSegment> expected = new ArrayList<>();
            for (JsonNode pair : p.get("parsed")) {
                expected.add(seg(pair.get(0).asText(), pair.get(1).asDouble()));
            }
            List<PromptSegment> actual = PromptParser.parse(p.get("prompt").asText());
            assertEquals(expected.size(), actual.size(), c.get("id").asText());
            for (int i = 0; i < expected.size(); i++) {
                assertEquals(expected.get(i).text(), actual.get(i).text(), c.get("id").asText());
                assertEquals(expected.get(i).weight(), actual.get(i).weight(), 1e-12, c.get("id").asText());
            }
        }
    }

    @Test
    void weightsMultiplyWhenNested() {
        assertParsed("a ((red)) apple", seg("a ", 1.0), seg("red", 1.2100000000000002), seg(" apple", 1.0));
        assertParsed("[[a]]", seg("a", 0.8264462809917354));
        assertParsed("(a)[b]", seg("a", 1.1), seg("b", 0.9090909090909091));
        assertParsed("(a (nested:1.2) phrase:0.8) about apples",
                seg("a ", 0.8), seg("nested", 0.96), seg(" phrase", 0.8), seg(" about apples", 1.0));
        // interleaved brackets close in the order they are met
        assertParsed("[(a])", seg("a", 1.0));
    }

    @Test
    void explicitWeightSyntax() {
        assertParsed("(a : 2 )", seg("a ", 2.0));
        assertParsed("(a:+.5)", seg("a", 0.5));
        assertParsed("(a:.5)", seg("a", 0.5));
        assertParsed("(a:1.)", seg("a", 1.0));
        assertParsed("a (b:0) c", seg("a ", 1.0), seg("b", 0.0), seg(" c", 1.0));
        assertParsed("(a:-1)", seg("a", -1.0));
        // Unicode decimal digits count as digits, as in Python
        assertParsed("(a:\u0661.\u0665)", seg("a", 1.5));
        // an exponent is not part of the number syntax: the colon is text and ')' closes with 1.1
        assertParsed("(a:1e5)", seg("a:1e5", 1.1));
    }

    @Test
    void unbalancedAndStrayBracketsAreText() {
        assertParsed(")", seg(")", 1.0));
        assertParsed("a]b", seg("a]b", 1.0));
        assertParsed("(a:1.5", seg("a:1.5", 1.1));
        assertParsed("a:1.5)", seg("a:1.5)", 1.0));
        assertParsed("a (b:1.2 c", seg("a ", 1.0), seg("b:1.2 c", 1.1));
        assertParsed("((a)", seg("a", 1.2100000000000002));
        assertParsed(":", seg(":", 1.0));
        assertParsed("(:)", seg(":", 1.1));
        assertParsed("((:1.2)", seg("", 1.0));
    }

    @Test
    void invalidNumbersNeverThrow() {
        // the reference raises here; the colon is read as text instead
        assertParsed("(a:1.2.3)", seg("a:1.2.3", 1.1));
        assertParsed("(a:.)", seg("a:.", 1.1));
    }

    @Test
    void escapes() {
        assertParsed("\\(a\\)", seg("(a)", 1.0));
        assertParsed("a \\(not weighted\\) apple on a \\[wooden\\] table",
                seg("a (not weighted) apple on a [wooden] table", 1.0));
        assertParsed("a\\\\b", seg("a\\b", 1.0));
        // a backslash before anything else disappears
        assertParsed("a\\b", seg("ab", 1.0));
        assertParsed("x\\ny BREAK\\tz", seg("xny", 1.0), PromptSegment.breakMarker(), seg("tz", 1.0));
    }

    @Test
    void breakSplitsOnTheWholeUpperCaseWord() {
        assertParsed("a red apple BREAK on a wooden table",
                seg("a red apple", 1.0), PromptSegment.breakMarker(), seg("on a wooden table", 1.0));
        assertParsed("a BREAK BREAK b", seg("a", 1.0), PromptSegment.breakMarker(), seg("", 1.0),
                PromptSegment.breakMarker(), seg("b", 1.0));
        assertParsed("a,BREAK,b", seg("a,", 1.0), PromptSegment.breakMarker(), seg(",b", 1.0));
        assertParsed("BREAK", seg("", 1.0), PromptSegment.breakMarker(), seg("", 1.0));
        assertParsed("aBREAK b", seg("aBREAK b", 1.0));
        assertParsed("a_BREAK b", seg("a_BREAK b", 1.0));
        assertParsed("a BREAK_b", seg("a BREAK_b", 1.0));
        assertParsed("a \u00b2BREAK b", seg("a \u00b2BREAK b", 1.0));
        assertParsed("a \u00e9BREAK b", seg("a \u00e9BREAK b", 1.0));
        assertParsed("break it", seg("break it", 1.0));
        // Python's \s includes no-break and ideographic spaces
        assertParsed("a\u00a0BREAK\u00a0b", seg("a", 1.0), PromptSegment.breakMarker(), seg("b", 1.0));
        assertParsed("a\u2003BREAK\u3000b", seg("a", 1.0), PromptSegment.breakMarker(), seg("b", 1.0));
        assertTrue(PromptParser.parse("a BREAK b").get(1).isBreak());
    }

    @Test
    void breakInsideBracketsIsAWeightedWordAsInTheReference() {
        List<PromptSegment> parsed = PromptParser.parse("(a BREAK b)");
        assertEquals(List.of(seg("a", 1.1), seg("BREAK", -1.1), seg("b", 1.1)), parsed);
        assertFalse(parsed.get(1).isBreak());
        assertParsed("(BREAK)", seg("", 1.1), seg("BREAK", -1.1), seg("", 1.1));
    }

    @Test
    void emptyPromptIsOneEmptySegment() {
        assertParsed("", seg("", 1.0));
        assertEquals(List.of(seg("", 1.0)), PromptParser.parse(null));
    }
}
