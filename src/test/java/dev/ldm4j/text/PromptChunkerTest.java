package dev.ldm4j.text;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Weights;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Packing rules checked by hand on prompts built from one-token words, and the SD2 variant. */
class PromptChunkerTest {
    private static final int BOS = ClipTokenizer.START_OF_TEXT;
    private static final int EOS = ClipTokenizer.END_OF_TEXT;
    private static ClipTokenizer tokenizer;
    private static PromptChunker sd1;
    private static int a;
    private static int b;
    private static int comma;

    @BeforeAll
    static void load() {
        tokenizer = ClipTokenizer.load();
        sd1 = new PromptChunker(tokenizer, ClipTokenizer.Style.SD1);
        a = single("a");
        b = single("b");
        comma = single(",");
    }

    private static int single(String word) {
        int[] ids = tokenizer.encode(word);
        assertEquals(1, ids.length, word);
        return ids[0];
    }

    private static String words(String word, int n) {
        return String.join(" ", java.util.Collections.nCopies(n, word));
    }

    /** [BOS, tokens..., EOS padding] as the encoder sees an SD1 chunk. */
    private static long[] chunk(int... tokens) {
        long[] out = new long[77];
        Arrays.fill(out, EOS);
        out[0] = BOS;
        for (int i = 0; i < tokens.length; i++) {
            out[i + 1] = tokens[i];
        }
        return out;
    }

    private static int[] repeat(int id, int n) {
        int[] out = new int[n];
        Arrays.fill(out, id);
        return out;
    }

    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }

    @Test
    void exactly75TokensIsOneChunk() {
        PromptChunks c = sd1.chunk(words("a", 75));
        assertEquals(1, c.size());
        assertEquals(75, c.tokenCount());
        assertArrayEquals(chunk(repeat(a, 75)), c.chunks().get(0).inputIds());
        PromptChunks d = sd1.chunk(words("a", 76));
        assertEquals(2, d.size());
        assertEquals(76, d.tokenCount());
        assertArrayEquals(chunk(a), d.chunks().get(1).inputIds());
        assertEquals(154, d.contextLength());
    }

    @Test
    void wordsAfterANearbyCommaMoveToTheNextChunk() {
        // 70 a, comma, 4 a: the chunk is full when b arrives and its comma is 5 back
        PromptChunks c = sd1.chunk(words("a", 70) + ", " + words("a", 4) + " (b)");
        assertEquals(2, c.size());
        assertArrayEquals(chunk(concat(repeat(a, 70), new int[] {comma})), c.chunks().get(0).inputIds());
        assertArrayEquals(chunk(concat(repeat(a, 4), new int[] {b})), c.chunks().get(1).inputIds());
        float[] m = c.chunks().get(1).multipliers();
        assertEquals(1f, m[4]);
        assertEquals(1.1f, m[5]);
        assertEquals(75 + 5, c.tokenCount());
    }

    @Test
    void commaBacktrackReachesExactly20Tokens() {
        // comma at index 55 of the full chunk: 75 - 55 = 20, moved
        PromptChunks near = sd1.chunk(words("a", 55) + ", " + words("a", 19) + " b");
        assertArrayEquals(chunk(concat(repeat(a, 55), new int[] {comma})), near.chunks().get(0).inputIds());
        assertArrayEquals(chunk(concat(repeat(a, 19), new int[] {b})), near.chunks().get(1).inputIds());
        // comma at index 54: 21 back, not moved
        PromptChunks far = sd1.chunk(words("a", 54) + ", " + words("a", 20) + " b");
        assertArrayEquals(chunk(concat(repeat(a, 54), new int[] {comma}, repeat(a, 20))),
                far.chunks().get(0).inputIds());
        assertArrayEquals(chunk(b), far.chunks().get(1).inputIds());
        // switched off
        PromptChunks off = new PromptChunker(tokenizer, ClipTokenizer.Style.SD1, 0)
                .chunk(words("a", 70) + ", " + words("a", 4) + " b");
        assertArrayEquals(chunk(b), off.chunks().get(1).inputIds());
    }

    @Test
    void aCommaThatArrivesAtAFullChunkStartsTheNext() {
        PromptChunks c = sd1.chunk(words("a", 75) + ", b");
        assertEquals(2, c.size());
        assertArrayEquals(chunk(repeat(a, 75)), c.chunks().get(0).inputIds());
        assertArrayEquals(chunk(comma, b), c.chunks().get(1).inputIds());
    }

    @Test
    void breakClosesTheChunk() {
        PromptChunks two = sd1.chunk("a BREAK BREAK b");
        assertEquals(3, two.size());
        assertArrayEquals(chunk(a), two.chunks().get(0).inputIds());
        assertArrayEquals(chunk(), two.chunks().get(1).inputIds());
        assertArrayEquals(chunk(b), two.chunks().get(2).inputIds());
        assertEquals(151, two.tokenCount());
        // a trailing BREAK adds no empty chunk; a lone one gives one chunk of padding
        assertEquals(1, sd1.chunk("a BREAK").size());
        PromptChunks lone = sd1.chunk("BREAK");
        assertEquals(1, lone.size());
        assertArrayEquals(chunk(), lone.chunks().get(0).inputIds());
        // inside brackets it is the weighted word "break"
        PromptChunks bracketed = sd1.chunk("(a BREAK b)");
        assertEquals(1, bracketed.size());
        assertArrayEquals(chunk(a, single("break"), b), bracketed.chunks().get(0).inputIds());
        assertEquals(-1.1f, bracketed.chunks().get(0).multipliers()[2]);
    }

    @Test
    void eachSegmentIsTokenizedOnItsOwn() {
        // "(photo)graph" is two words to the tokenizer, "photograph" one
        PromptChunks split = sd1.chunk("(photo)graph");
        int[] expected = concat(tokenizer.encode("photo"), tokenizer.encode("graph"));
        assertArrayEquals(chunk(expected), split.chunks().get(0).inputIds());
        assertEquals(List.of(new PromptSegment("photo", 1.1), new PromptSegment("graph", 1.0)), split.segments());
    }

    @Test
    void sd2PadsWithZeroAfterTheFirstEndToken() {
        PromptChunker sd2 = new PromptChunker(tokenizer, ClipTokenizer.Style.SD2);
        String prompt = words("a", 70) + ", " + words("a", 4) + " (b)";
        PromptChunks one = sd1.chunk(prompt);
        PromptChunks two = sd2.chunk(prompt);
        assertEquals(one.size(), two.size());
        for (int c = 0; c < one.size(); c++) {
            long[] expected = one.chunks().get(c).inputIds();
            int firstEnd = 1;
            while (expected[firstEnd] != EOS) {
                firstEnd++;
            }
            Arrays.fill(expected, firstEnd + 1, 77, 0);
            assertArrayEquals(expected, two.chunks().get(c).inputIds(), "chunk " + c);
            assertArrayEquals(one.chunks().get(c).multipliers(), two.chunks().get(c).multipliers(), 0f);
        }
        // a full chunk has its end token last and no padding
        long[] full = sd2.chunk(words("a", 76)).chunks().get(0).inputIds();
        assertEquals(EOS, full[76]);
        assertEquals(a, full[75]);
    }

    @Test
    void sd2ShortPromptsGiveTheReferenceConditioning() {
        // open_clip.tokenize ids and the ordinary SD2 conditioning of the sd2-tiny text_encoder case
        String folder = "sd2-tiny";
        OpenClipTextModel model;
        try (SafetensorsFile file = TextFixtures.checkpoint(folder)) {
            model = new OpenClipTextModel(Weights.of(new CheckpointSource(file), TextFixtures.OPEN_CLIP_PREFIX),
                    OpenClipTextConfig.fromMap(TextFixtures.textModelConfig(folder)));
        }
        var prompts = Fixtures.caseOf(folder, "text_encoder").get("params").get("prompts");
        WeightedPromptEncoder encoder = new WeightedPromptEncoder(tokenizer, ClipTokenizer.Style.SD2);
        try (SafetensorsFile f = Fixtures.open(folder + "/cases/text_encoder.safetensors")) {
            Tensor ids = Tensors.read(f, "input_ids");
            Tensor expected = Tensors.read(f, "penultimate_ln_final");
            double tol = Fixtures.tolerance(folder, "text_encoder", "penultimate_ln_final");
            for (int i = 0; i < 2; i++) {
                String prompt = prompts.get(i).asText();
                PromptChunks c = encoder.chunks(prompt);
                assertEquals(1, c.size());
                assertArrayEquals(Tensors.toLongs(ids.select(0, i)), c.chunks().get(0).inputIds(), "ids " + i);
                assertClose(expected.narrow(0, i, 1), encoder.encode(prompt, model), tol, "prompt " + i);
            }
        }
    }
}
