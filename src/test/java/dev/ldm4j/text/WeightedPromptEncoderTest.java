package dev.ldm4j.text;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ldm4j.Fixtures;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Weights;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The prompts/ golden cases: AUTOMATIC1111 chunking and emphasis on the sd1-tiny text encoder. */
@org.junit.jupiter.api.Tag("golden")
class WeightedPromptEncoderTest {
    private static final String FOLDER = "prompts";
    private static ClipTokenizer tokenizer;
    private static ClipTextModel model;

    @BeforeAll
    static void load() {
        tokenizer = ClipTokenizer.load();
        ClipTextConfig config = ClipTextConfig.fromMap(TextFixtures.textModelConfig("sd1-tiny"));
        try (SafetensorsFile file = TextFixtures.checkpoint("sd1-tiny")) {
            model = new ClipTextModel(Weights.of(new CheckpointSource(file), TextFixtures.SD1_PREFIX), config);
        }
    }

    static Stream<String> caseIds() {
        List<String> ids = new ArrayList<>();
        for (JsonNode c : Fixtures.manifest(FOLDER).get("cases")) {
            ids.add(c.get("id").asText());
        }
        assertEquals(12, ids.size(), "prompts/manifest.json cases");
        return ids.stream();
    }

    private static double tol(String id, String output) {
        return Fixtures.tolerance(FOLDER, id, output);
    }

    @ParameterizedTest
    @MethodSource("caseIds")
    void chunksMatchExactly(String id) {
        JsonNode params = Fixtures.caseOf(FOLDER, id).get("params");
        PromptChunks chunks = new PromptChunker(tokenizer, ClipTokenizer.Style.SD1).chunk(params.get("prompt").asText());
        assertEquals(params.get("num_chunks").asInt(), chunks.size(), "num_chunks");
        assertEquals(params.get("token_count").asInt(), chunks.tokenCount(), "token_count");
        try (SafetensorsFile f = Fixtures.open(FOLDER + "/cases/" + id + ".safetensors")) {
            long[] ids = Tensors.toLongs(Tensors.read(f, "chunk_input_ids"));
            float[] mult = Tensors.toFloats(Tensors.read(f, "chunk_multipliers"));
            for (int c = 0; c < chunks.size(); c++) {
                PromptChunk chunk = chunks.chunks().get(c);
                assertArrayEquals(slice(ids, c), chunk.inputIds(), id + " chunk " + c + " ids");
                assertArrayEquals(slice(mult, c), chunk.multipliers(), 0f, id + " chunk " + c + " multipliers");
                assertEquals(params.get("chunk_prompt_tokens").get(c).asInt(), promptTokens(chunk.inputIds()),
                        id + " chunk " + c + " prompt tokens");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("caseIds")
    void conditioningMatchesReference(String id) {
        String prompt = Fixtures.caseOf(FOLDER, id).get("params").get("prompt").asText();
        WeightedPromptEncoder encoder = new WeightedPromptEncoder(tokenizer, ClipTokenizer.Style.SD1);
        PromptChunks chunks = encoder.chunks(prompt);
        try (SafetensorsFile f = Fixtures.open(FOLDER + "/cases/" + id + ".safetensors")) {
            Tensor ids = Tensors.read(f, "chunk_input_ids");
            int k = (int) ids.size(0);
            Tensor z = model.encode(ids);
            assertClose(Tensors.read(f, "z_unweighted"), z.reshape(1, (long) k * 77, z.size(2)),
                    tol(id, "z_unweighted"), id + " z_unweighted");

            Tensor weighted = z.mul(Tensors.read(f, "chunk_multipliers").unsqueeze(2));
            float[] means = new float[2 * k];
            for (int c = 0; c < k; c++) {
                means[2 * c] = Tensors.toFloats(z.select(0, c).mean())[0];
                means[2 * c + 1] = Tensors.toFloats(weighted.select(0, c).mean())[0];
            }
            assertClose(Tensors.read(f, "chunk_means"), Tensors.fromFloats(means, k, 2), tol(id, "chunk_means"),
                    id + " chunk_means");

            assertClose(Tensors.read(f, "cond"), encoder.encode(prompt, model), tol(id, "cond"), id + " cond");
            assertClose(Tensors.read(f, "cond"), WeightedPromptEncoder.encode(chunks, model::encode), tol(id, "cond"),
                    id + " cond from chunks");
            assertClose(Tensors.read(f, "cond"),
                    WeightedPromptEncoder.encode(model, tokenizer, ClipTokenizer.Style.SD1, prompt, 1),
                    tol(id, "cond"), id + " cond, clip skip 1");
        }
    }

    @Test
    void batchOfPromptsRepeatsTheLastVectorOfShorterOnes() {
        String shortId = "paren";
        String longId = "long_weighted";
        String shortPrompt = Fixtures.caseOf(FOLDER, shortId).get("params").get("prompt").asText();
        String longPrompt = Fixtures.caseOf(FOLDER, longId).get("params").get("prompt").asText();
        WeightedPromptEncoder encoder = new WeightedPromptEncoder(tokenizer, ClipTokenizer.Style.SD1);
        Tensor batch = encoder.encodeBatch(List.of(shortPrompt, longPrompt, shortPrompt), model::encode);
        assertArrayEquals(new long[] {3, 154, 32}, Tensors.shape(batch));
        try (SafetensorsFile s = Fixtures.open(FOLDER + "/cases/" + shortId + ".safetensors");
             SafetensorsFile l = Fixtures.open(FOLDER + "/cases/" + longId + ".safetensors")) {
            Tensor shortCond = Tensors.read(s, "cond");
            double tol = tol(shortId, "cond");
            assertClose(shortCond, batch.narrow(0, 0, 1).narrow(1, 0, 77), tol, "short prompt");
            Tensor last = shortCond.narrow(1, 76, 1).expand(1, 77, 32);
            assertClose(last, batch.narrow(0, 0, 1).narrow(1, 77, 77), tol, "short prompt, repeated last vector");
            assertClose(Tensors.read(l, "cond"), batch.narrow(0, 1, 1), tol(longId, "cond"), "long prompt");
            assertClose(shortCond, batch.narrow(0, 2, 1).narrow(1, 0, 77), tol, "repeated short prompt");
        }
    }

    @Test
    void clipSkipSelectsTheLayerForEveryChunk() {
        // a prompt of one chunk with weight 1 is the ordinary conditioning, also at clip skip 2
        String id = "text_encoder_clip_skip2";
        JsonNode prompts = Fixtures.caseOf("sd1-tiny", id).get("params").get("prompts");
        try (SafetensorsFile f = Fixtures.open("sd1-tiny/cases/" + id + ".safetensors")) {
            Tensor expected = Tensors.read(f, "cond_clip_skip2");
            for (int i = 0; i < prompts.size(); i++) {
                Tensor cond = WeightedPromptEncoder.encode(model, tokenizer, ClipTokenizer.Style.SD1,
                        prompts.get(i).asText(), 2);
                assertClose(expected.narrow(0, i, 1), cond, Fixtures.tolerance("sd1-tiny", id, "cond_clip_skip2"),
                        "clip skip 2, prompt " + i);
            }
        }
    }

    private static long[] slice(long[] a, int chunk) {
        long[] out = new long[77];
        System.arraycopy(a, chunk * 77, out, 0, 77);
        return out;
    }

    private static float[] slice(float[] a, int chunk) {
        float[] out = new float[77];
        System.arraycopy(a, chunk * 77, out, 0, 77);
        return out;
    }

    /** Positions between the start token and the first end token. */
    private static int promptTokens(long[] ids) {
        for (int i = 1; i < ids.length; i++) {
            if (ids[i] == ClipTokenizer.END_OF_TEXT) {
                return i - 1;
            }
        }
        throw new AssertionError("no end token");
    }

    @Test
    void aChunkOfMeanZeroIsLeftAsItIs() {
        // what a fresh text encoder gives: every vector through an identity LayerNorm has mean 0, and
        // rescaling by mean / weighted mean would be 0 / 0 (NaN conditioning, black sample grids)
        Tensor z = Tensors.fromFloats(new float[] {1, -1, 2, -2, 3, -3}, 1, 3, 2);
        Tensor out = WeightedPromptEncoder.emphasize(z, Tensors.fromFloats(new float[] {1, 1, 1}, 1, 3));
        assertArrayEquals(Tensors.toFloats(z), Tensors.toFloats(out), 0f);
    }
}
