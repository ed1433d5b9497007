package dev.ldm4j.text;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ldm4j.Fixtures;
import dev.ldm4j.io.SafetensorsFile;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every case of fixtures/tokenizer/manifest.json, made by openai CLIP (+ ftfy) and open_clip v2.7.0. */
class ClipTokenizerTest {
    private static final ClipTokenizer TOKENIZER = ClipTokenizer.load();

    static Stream<Arguments> cases() {
        return StreamSupport.stream(Fixtures.manifest("tokenizer").get("cases").spliterator(), false)
                .map(c -> Arguments.of(c.get("id").asText(), c));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesReferenceTokenizers(String id, JsonNode c) {
        String text = c.get("text").asText();
        int[] bpe = TOKENIZER.encode(text);
        List<String> tokens = new ArrayList<>();
        for (int t : bpe) {
            tokens.add(TOKENIZER.token(t));
        }
        assertAll(
                () -> assertEquals(c.get("cleaned_text").asText(), TextCleaner.clean(text), "cleaned_text"),
                () -> assertArrayEquals(ints(c.get("bpe_ids")), bpe, "bpe_ids"),
                () -> assertEquals(strings(c.get("bpe_tokens")), tokens, "bpe_tokens"),
                () -> assertArrayEquals(longs(c.get("sd1_input_ids")), TOKENIZER.sd1Ids(text), "sd1_input_ids"),
                () -> assertArrayEquals(longs(c.get("sd2_input_ids")), TOKENIZER.sd2Ids(text), "sd2_input_ids"),
                () -> assertEquals(c.get("truncated").asBoolean(), bpe.length > ClipTokenizer.MAX_PROMPT_TOKENS,
                        "truncated"));
    }

    @Test
    void idTensorsMatchTheManifestCases() {
        JsonNode cases = Fixtures.manifest("tokenizer").get("cases");
        try (SafetensorsFile f = Fixtures.open("tokenizer/cases.safetensors")) {
            for (String key : new String[] {"sd1_input_ids", "sd2_input_ids"}) {
                LongBuffer all = f.bytes(key).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer();
                assertEquals(cases.size() * ClipTokenizer.CONTEXT_LENGTH, all.remaining(), key + " size");
                for (int row = 0; row < cases.size(); row++) {
                    String text = cases.get(row).get("text").asText();
                    long[] expected = new long[ClipTokenizer.CONTEXT_LENGTH];
                    all.get(expected);
                    long[] actual = key.startsWith("sd1") ? TOKENIZER.sd1Ids(text) : TOKENIZER.sd2Ids(text);
                    assertArrayEquals(expected, actual, key + " row " + row);
                }
            }
        }
    }

    @Test
    void decodeRestoresTheCleanedWordsWithWordEndsAsSpaces() {
        assertEquals("a photograph of an astronaut ", TOKENIZER.decode(TOKENIZER.encode("A photograph of an ASTRONAUT")));
        // multi-byte characters are split across BPE tokens and must be reassembled from their bytes
        assertEquals("東京 café 🐱 8 k , ok ", TOKENIZER.decode(TOKENIZER.encode("東京 café 🐱 8k, ok")));
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    private static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
