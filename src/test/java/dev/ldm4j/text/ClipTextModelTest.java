package dev.ldm4j.text;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

@org.junit.jupiter.api.extension.ExtendWith(dev.ldm4j.BothGradModes.class)
@org.junit.jupiter.api.Tag("golden")
class ClipTextModelTest {
    private static final String FOLDER = "sd1-tiny";
    private static ClipTextModel model;

    @BeforeAll
    static void load() {
        ClipTextConfig config = ClipTextConfig.fromMap(TextFixtures.textModelConfig(FOLDER));
        try (SafetensorsFile file = TextFixtures.checkpoint(FOLDER)) {
            model = new ClipTextModel(Weights.of(new CheckpointSource(file), TextFixtures.SD1_PREFIX), config);
        }
    }

    private static double tol(String id, String output) {
        return Fixtures.tolerance(FOLDER, id, output);
    }

    @Test
    void fullPassMatchesReference() {
        try (SafetensorsFile f = Fixtures.open(FOLDER + "/cases/text_encoder.safetensors")) {
            Tensor ids = Tensors.read(f, "input_ids");
            ClipTextOutput out = model.forward(ids);
            assertEquals(3, out.hiddenStates().size());
            assertClose(Tensors.read(f, "last_hidden_state"), out.lastHiddenState(),
                    tol("text_encoder", "last_hidden_state"), "last_hidden_state");
            assertClose(Tensors.read(f, "penultimate_hidden_state"), out.hiddenStateFromEnd(2),
                    tol("text_encoder", "penultimate_hidden_state"), "hidden_states[-2]");
            assertClose(Tensors.read(f, "penultimate_hidden_state_final_ln"),
                    model.finalLayerNorm(out.hiddenStateFromEnd(2)),
                    tol("text_encoder", "penultimate_hidden_state_final_ln"), "final_layer_norm(hidden_states[-2])");
            assertClose(Tensors.read(f, "pooler_output"), out.pooled(), tol("text_encoder", "pooler_output"),
                    "pooler_output");
        }
    }

    @Test
    void encodeWithClipSkipMatchesReference() {
        try (SafetensorsFile f = Fixtures.open(FOLDER + "/cases/text_encoder.safetensors")) {
            Tensor ids = Tensors.read(f, "input_ids");
            assertClose(Tensors.read(f, "last_hidden_state"), model.encode(ids),
                    tol("text_encoder", "last_hidden_state"), "encode, clip skip 1");
            assertClose(Tensors.read(f, "penultimate_hidden_state_final_ln"), model.encode(ids, 2),
                    tol("text_encoder", "penultimate_hidden_state_final_ln"), "encode, clip skip 2");
        }
    }

    @Test
    void clipSkip2CaseMatchesReference() {
        String id = "text_encoder_clip_skip2";
        ClipTextConfig config = ClipTextConfig.fromMap(TextFixtures.textModelConfig(FOLDER));
        ClipTextModel skip2;
        try (SafetensorsFile file = TextFixtures.checkpoint(FOLDER)) {
            skip2 = new ClipTextModel(Weights.of(new CheckpointSource(file), TextFixtures.SD1_PREFIX), config, 2);
        }
        try (SafetensorsFile f = Fixtures.open(FOLDER + "/cases/" + id + ".safetensors")) {
            Tensor ids = Tensors.read(f, "input_ids");
            TextEncoder encoder = skip2;
            assertClose(Tensors.read(f, "cond_clip_skip2"), encoder.encode(ids), tol(id, "cond_clip_skip2"),
                    "cond_clip_skip2");
            assertClose(Tensors.read(f, "penultimate_hidden_state"), skip2.forward(ids).hiddenStateFromEnd(2),
                    tol(id, "penultimate_hidden_state"), "hidden_states[-2]");
        }
    }

    @Test
    void shorterSequenceIsThePrefixBecauseTheMaskIsCausal() {
        try (SafetensorsFile f = Fixtures.open(FOLDER + "/cases/text_encoder.safetensors")) {
            Tensor ids = Tensors.read(f, "input_ids").narrow(1, 0, 9);
            Tensor expected = Tensors.read(f, "last_hidden_state").narrow(1, 0, 9);
            assertClose(expected, model.encode(ids), tol("text_encoder", "last_hidden_state"), "first 9 tokens");
            // int32 ids are accepted and widened
            assertClose(expected, model.encode(ids.to(ScalarType.Int)), tol("text_encoder", "last_hidden_state"),
                    "int32 ids");
        }
    }

    @Test
    void describesItselfAndRejectsBadArguments() {
        assertEquals(32, model.contextDim());
        assertEquals(77, model.maxLength());
        assertEquals(1, model.clipSkip());
        Tensor ids = Tensors.fromLongs(new long[78], 1, 78);
        assertThrows(IllegalArgumentException.class, () -> model.encode(ids));
        assertThrows(IllegalArgumentException.class, () -> model.encode(Tensors.fromLongs(new long[3], 3)));
        assertThrows(IllegalArgumentException.class, () -> model.encode(Tensors.fromFloats(new float[3], 1, 3)));
        Tensor ok = Tensors.fromLongs(new long[3], 1, 3);
        assertThrows(BadRequestException.class, () -> model.encode(ok, 0));
        assertThrows(BadRequestException.class, () -> model.encode(ok, 3));
    }
}
