package dev.ldm4j.text;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

@org.junit.jupiter.api.extension.ExtendWith(dev.ldm4j.BothGradModes.class)
@org.junit.jupiter.api.Tag("golden")
class OpenClipTextModelTest {
    private static OpenClipTextModel load(String folder, OpenClipLayer layer) {
        OpenClipTextConfig config = OpenClipTextConfig.fromMap(TextFixtures.textModelConfig(folder));
        // the F16 checkpoint is converted to float32 on load, as the reference ran it
        try (SafetensorsFile file = TextFixtures.checkpoint(folder)) {
            return new OpenClipTextModel(Weights.of(new CheckpointSource(file), TextFixtures.OPEN_CLIP_PREFIX),
                    config, layer);
        }
    }

    @Test
    void sd2PenultimateAndLastMatchReference() {
        String layerName = (String) ((java.util.Map<?, ?>) TextFixtures.condStageConfig("sd2-tiny").get("params"))
                .get("layer");
        OpenClipTextModel model = load("sd2-tiny", OpenClipLayer.parse(layerName));
        assertEquals(OpenClipLayer.PENULTIMATE, model.layer());
        try (SafetensorsFile f = Fixtures.open("sd2-tiny/cases/text_encoder.safetensors")) {
            Tensor ids = Tensors.read(f, "input_ids");
            assertClose(Tensors.read(f, "penultimate_ln_final"), model.encode(ids),
                    Fixtures.tolerance("sd2-tiny", "text_encoder", "penultimate_ln_final"), "penultimate_ln_final");
            assertClose(Tensors.read(f, "last_ln_final"), model.encode(ids, OpenClipLayer.LAST),
                    Fixtures.tolerance("sd2-tiny", "text_encoder", "last_ln_final"), "last_ln_final");
            Tensor prefix = ids.narrow(1, 0, 12);
            assertClose(Tensors.read(f, "penultimate_ln_final").narrow(1, 0, 12), model.encode(prefix),
                    Fixtures.tolerance("sd2-tiny", "text_encoder", "penultimate_ln_final"), "first 12 tokens (causal)");
        }
        assertEquals(32, model.contextDim());
        assertEquals(77, model.maxLength());
    }

    @Test
    void upscalerTextEncoderMatchesReference() {
        String folder = "sd-x4-upscaler-tiny";
        TextEncoder model = load(folder, OpenClipLayer.PENULTIMATE);
        try (SafetensorsFile f = Fixtures.open(folder + "/cases/text_encoder.safetensors")) {
            assertClose(Tensors.read(f, "penultimate_ln_final"), model.encode(Tensors.read(f, "input_ids")),
                    Fixtures.tolerance(folder, "text_encoder", "penultimate_ln_final"), "penultimate_ln_final");
        }
    }

    @Test
    void parsesLayerNames() {
        assertEquals(OpenClipLayer.LAST, OpenClipLayer.parse("last"));
        assertEquals(OpenClipLayer.PENULTIMATE, OpenClipLayer.parse(" Penultimate"));
        assertThrows(IllegalArgumentException.class, () -> OpenClipLayer.parse("pooled"));
    }
}
