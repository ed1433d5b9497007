package dev.ldm4j.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Prompts with textual-inversion words, chunked as AUTOMATIC1111's own tokenize_line and embedding database
 * chunk them (scripts/reference/a1111_textual_inversion.py): the same ids (A1111's placeholder 0 where the
 * vectors go), weights, vector offsets and token count, including words moved to the next chunk and the longest
 * name winning.
 */
class TextualInversionChunkTest {
    private static final int WIDTH = 4;
    private static JsonNode golden;
    private static PromptChunker chunker;
    private static TextualInversions embeddings;

    @BeforeAll
    static void setUp() throws IOException {
        try (InputStream in = TextualInversionChunkTest.class.getResourceAsStream("a1111-textual-inversion.json")) {
            golden = new ObjectMapper().readTree(in);
        }
        List<TextualInversion> all = new ArrayList<>();
        golden.get("embeddings").fields().forEachRemaining(e -> {
            int n = e.getValue().asInt();
            all.add(new TextualInversion(e.getKey(), Path.of(e.getKey() + ".pt"), Map.of(TextualInversion.ONE_TOWER,
                    new TextualInversion.Vectors(n, WIDTH, new float[n * WIDTH]))));
        });
        ClipTokenizer tokenizer = ClipTokenizer.load();
        embeddings = TextualInversions.of(all, tokenizer, Map.of(TextualInversion.ONE_TOWER, WIDTH));
        assertEquals(all.size(), embeddings.loaded().size(), "skipped: " + embeddings.skipped());
        chunker = new PromptChunker(tokenizer, ClipTokenizer.Style.SD1, embeddings);
    }

    @Test
    void chunksMatchAutomatic1111() {
        Map<Integer, String> nameOfFirstId = new HashMap<>();
        int id = embeddings.firstExtraId();
        for (TextualInversion e : embeddings.loaded()) {
            nameOfFirstId.put(id, e.name());
            id += e.vectors();
        }
        int checked = 0;
        for (JsonNode c : golden.get("cases")) {
            String prompt = c.get("prompt").asText();
            PromptChunks chunks = chunker.chunk(prompt);
            assertEquals(c.get("chunks").size(), chunks.size(), prompt);
            assertEquals(c.get("token_count").asInt(), chunks.tokenCount(), prompt);
            for (int k = 0; k < chunks.size(); k++) {
                JsonNode want = c.get("chunks").get(k);
                long[] ids = chunks.chunks().get(k).inputIds();
                List<List<Object>> fixes = new ArrayList<>();
                for (int i = 0; i < ids.length; i++) {
                    if (ids[i] >= embeddings.firstExtraId()) {
                        String name = nameOfFirstId.get((int) ids[i]);
                        if (name != null) {
                            // A1111's offset counts from the first prompt token, after the start token
                            fixes.add(List.of(i - 1, name));
                        }
                        ids[i] = 0;
                    }
                }
                long[] wantIds = new long[want.get("tokens").size()];
                for (int i = 0; i < wantIds.length; i++) {
                    wantIds[i] = want.get("tokens").get(i).asLong();
                }
                assertEquals(Arrays.toString(wantIds), Arrays.toString(ids), prompt + ", chunk " + k);
                float[] mult = chunks.chunks().get(k).multipliers();
                for (int i = 0; i < mult.length; i++) {
                    assertEquals((float) want.get("multipliers").get(i).asDouble(), mult[i], prompt + " @" + i);
                }
                List<List<Object>> wantFixes = new ArrayList<>();
                want.get("fixes").forEach(f -> wantFixes.add(List.of(f.get(0).asInt(), f.get(1).asText())));
                assertEquals(wantFixes, fixes, prompt + ", chunk " + k);
            }
            checked++;
        }
        assertEquals(12, checked);
    }

    @Test
    void longestNameWinsAndVectorsGetTheirOwnIds() {
        ClipTokenizer tokenizer = ClipTokenizer.load();
        int[] ids = tokenizer.encode("a red apple");
        TextualInversions.Match m = embeddings.match(ids, 1);
        assertNotNull(m);
        assertEquals("red apple", m.embedding().name());
        assertEquals(2, m.tokens());
        assertTrue(m.firstId() >= tokenizer.vocabSize());
        assertEquals(null, embeddings.match(ids, 0));
        assertEquals(embeddings.loaded().stream().mapToInt(TextualInversion::vectors).sum(), embeddings.extraRows());
    }

    @Test
    void embeddingsOfTheWrongWidthAreSkippedWithTheReason() {
        TextualInversion narrow = new TextualInversion("narrow", Path.of("narrow.pt"), Map.of(
                TextualInversion.ONE_TOWER, new TextualInversion.Vectors(1, 3, new float[3])));
        TextualInversion xl = new TextualInversion("xl", Path.of("xl.safetensors"), Map.of(
                TextualInversion.CLIP_L, new TextualInversion.Vectors(1, 4, new float[4]),
                TextualInversion.CLIP_G, new TextualInversion.Vectors(1, 5, new float[5])));
        TextualInversions one = TextualInversions.of(List.of(narrow, xl), ClipTokenizer.load(),
                Map.of(TextualInversion.ONE_TOWER, WIDTH));
        assertTrue(one.isEmpty());
        assertTrue(one.skipped().get("narrow").contains("3 wide"), one.skipped().toString());
        assertTrue(one.skipped().get("xl").contains("clip_l"), one.skipped().toString());
        TextualInversions two = TextualInversions.of(List.of(narrow, xl), ClipTokenizer.load(),
                Map.of(TextualInversion.CLIP_L, 4, TextualInversion.CLIP_G, 5));
        assertEquals(List.of(xl), two.loaded());
        assertEquals(List.of("narrow"), List.copyOf(two.skipped().keySet()));
    }
}
