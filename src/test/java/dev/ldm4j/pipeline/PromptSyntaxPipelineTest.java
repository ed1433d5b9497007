package dev.ldm4j.pipeline;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.StepListener;
import org.bytedeco.pytorch.InferenceMode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Prompt syntax through the whole pipeline: weights of 1 are no-ops; chunk counts may differ under CFG. */
@org.junit.jupiter.api.Tag("golden")
class PromptSyntaxPipelineTest {
    private static LatentDiffusionModel sd;

    @BeforeAll
    static void load() {
        sd = ModelLoader.load(new ModelLoader.Options(Fixtures.path("sd1-tiny/model.safetensors"),
                Fixtures.path("sd1-tiny/config.yaml"), null, null));
    }

    private static GenerationRequest request(String prompt, String negative) {
        return new GenerationRequest(prompt, negative, 64, 64, 4, 7.5, "euler", "discrete", 0, 3, 1, 0);
    }

    @Test
    void explicitWeightOfOneChangesNothing() {
        try (GenerationResult plain = new Generator(sd).generate(request("an astronaut riding a horse", ""),
                StepListener.NONE);
             GenerationResult weighted = new Generator(sd).generate(
                     request("an (astronaut:1.0) riding a horse", ""), StepListener.NONE)) {
            assertClose(plain.latents(), weighted.latents(), 1e-5, "(x:1.0) vs x");
        }
    }

    @Test
    void promptAndNegativeOfDifferentChunkCountsStillGuide() {
        String longPrompt = "a photograph of an astronaut riding a horse BREAK on the moon, highly detailed";
        try (InferenceMode g = new InferenceMode()) {
            long condLen = sd.encodePrompts(java.util.List.of(longPrompt), 0).size(1);
            long uncondLen = sd.encodePrompts(java.util.List.of(""), 0).size(1);
            assertTrue(condLen == 154 && uncondLen == 77, condLen + " vs " + uncondLen);
        }
        try (GenerationResult r = new Generator(sd).generate(request(longPrompt, ""), StepListener.NONE)) {
            assertArrayEquals(new long[] {1, 4, 8, 8}, Tensors.shape(r.latents()));
            assertFalse(r.latents().isnan().any().item().toBool(), "NaN in latents");
        }
    }
}
