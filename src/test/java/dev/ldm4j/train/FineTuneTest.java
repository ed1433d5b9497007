package dev.ldm4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.DType;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.model.UnsupportedModelException;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.pipeline.GenerationRequest;
import dev.ldm4j.pipeline.GenerationResult;
import dev.ldm4j.pipeline.Generator;
import dev.ldm4j.sampling.StepListener;
import dev.ldm4j.unet.Conditioning;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Fine-tuning the sd1-tiny fixture checkpoint (a real single-file SD 1.x layout with its config). */
@org.junit.jupiter.api.Tag("golden")
class FineTuneTest {
    @TempDir
    Path tmp;

    private static Path checkpoint() {
        return Fixtures.path("sd1-tiny/model.safetensors");
    }

    private static ModelConfig config() {
        return ModelConfig.fromYaml(Fixtures.path("sd1-tiny/config.yaml"));
    }

    /** 64x64 images for the f = 8 autoencoder of sd1-tiny. */
    private static InMemoryData data() {
        return TrainTestData.squaresData(4, 64, 5);
    }

    @Test
    void gradientsReachEveryTrainableTensor() {
        LatentDiffusion model = LatentDiffusion.fromCheckpoint(checkpoint(), config(), true);
        DiffusionTrainer trainer = new DiffusionTrainer(model, TrainConfig.defaults().withBatchSize(2)
                .withCaptionDropout(0));
        trainer.step(data().batch(0, 2));
        // the gradients of the step are still there (they are zeroed at the start of the next one)
        assertTrue(model.trainable().size() > 100);
        try (PointerScope scope = new PointerScope()) {
            for (Map.Entry<String, Tensor> e : model.trainable().entrySet()) {
                Tensor g = e.getValue().grad();
                assertTrue(g.defined(), "no gradient for " + e.getKey());
                assertTrue(g.abs().max().item().toDouble() > 0, "zero gradient for " + e.getKey());
            }
            for (Map.Entry<String, Tensor> e : model.parameters().entrySet()) {
                if (e.getKey().startsWith(LatentDiffusion.VAE)) {
                    assertFalse(e.getValue().requires_grad(), e.getKey() + " is frozen");
                    assertFalse(e.getValue().grad().defined(), e.getKey() + " has no gradient");
                }
            }
        }
    }

    @Test
    void oneStepChangesTheUNetAndNothingElseAndTheResultGenerates() throws IOException {
        LatentDiffusion model = LatentDiffusion.fromCheckpoint(checkpoint(), config(), false);
        assertTrue(model.trainable().keySet().stream().allMatch(k -> k.startsWith(LatentDiffusion.UNET)),
                "fine-tuning trains the UNet only");
        DiffusionTrainer trainer = new DiffusionTrainer(model, TrainConfig.defaults().withBatchSize(2));
        trainer.step(data().batch(0, 2));
        Path out = tmp.resolve("tuned.safetensors");
        Path yaml = tmp.resolve("tuned.yaml");
        SdCheckpoint.write(out, yaml, trainer, DType.F32);

        int unetChanged = 0;
        int unet = 0;
        try (SafetensorsFile original = SafetensorsFile.open(checkpoint());
             SafetensorsFile tuned = SafetensorsFile.open(out)) {
            for (String k : tuned.keys()) {
                if (k.equals("alphas_cumprod")) {
                    continue;
                }
                assertTrue(original.has(k), "a key the original has: " + k);
                assertArrayEquals(original.info(k).shape(), tuned.info(k).shape(), k);
                assertEquals(DType.F32, tuned.info(k).dtype(), k);
                float[] before = Tensors.toFloats(Tensors.readFloat(original, k));
                float[] after = Tensors.toFloats(Tensors.read(tuned, k));
                if (k.startsWith(LatentDiffusion.UNET)) {
                    unet++;
                    if (!Arrays.equals(before, after)) {
                        unetChanged++;
                    }
                } else {
                    assertArrayEquals(before, after, 0f, "frozen " + k);
                }
            }
            long originalUnet = original.keys().stream().filter(k -> k.startsWith(LatentDiffusion.UNET)).count();
            assertEquals(originalUnet, unet, "every UNet tensor is exported");
        }
        assertEquals(unet, unetChanged, "every UNet tensor moved");

        LatentDiffusionModel sd = ModelLoader.load(new ModelLoader.Options(out, yaml, null, null));
        assertTrue(sd.unusedKeys().isEmpty(), "unused: " + sd.unusedKeys());
        GenerationRequest r = GenerationRequest.of("a red square").withSize(64, 64).withSeed(3)
                .withSampling("euler", "discrete", 3, 5.0);
        try (GenerationResult result = new Generator(sd).generate(r, StepListener.NONE)) {
            float[] px = Tensors.toFloats(result.images());
            assertEquals(3 * 64 * 64, px.length);
            for (float v : px) {
                assertTrue(v >= 0 && v <= 1, "pixel " + v);
            }
        }
        assertTrue(Files.readString(yaml).contains("text_model_config"));
    }

    /** sd1-tiny (CLIP, eps) and sd2-tiny (OpenCLIP penultimate layer, v): export, load, same numbers. */
    @ParameterizedTest
    @ValueSource(strings = {"sd1-tiny", "sd2-tiny"})
    void exportedModelLoadsAndComputesWhatTheTrainerComputes(String fixture) {
        Path ckpt = Fixtures.path(fixture + "/model.safetensors");
        ModelConfig mc = ModelConfig.fromYaml(Fixtures.path(fixture + "/config.yaml"));
        // no EMA: the exported weights are the trainer's own, so both UNets must agree bit for bit
        LatentDiffusion model = LatentDiffusion.fromCheckpoint(ckpt, mc, true);
        DiffusionTrainer trainer = new DiffusionTrainer(model, TrainConfig.defaults().withBatchSize(2).withEma(0, false));
        trainer.step(data().batch(0, 2));
        Path out = tmp.resolve("m.safetensors");
        Path yaml = tmp.resolve("m.yaml");
        SdCheckpoint.write(out, yaml, trainer, DType.F32);
        LatentDiffusionModel sd = ModelLoader.load(new ModelLoader.Options(out, yaml, null, null));
        assertEquals(mc.vPrediction(), sd.config().vPrediction());
        assertEquals(mc.textLayer(), sd.config().textLayer());
        assertEquals(mc.unet(), sd.config().unet());
        assertEquals(mc.vae(), sd.config().vae());
        assertTrue(sd.unusedKeys().isEmpty(), "unused: " + sd.unusedKeys());

        Tensor x = torch.randn(2, 4, 8, 8);
        Tensor t = Tensors.fromFloats(new float[] {10, 700}, 2);
        List<String> prompts = List.of("a red square", "a blue square");
        float[] expected;
        float[] expectedContext;
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor ctx = model.encodeCaptions(prompts);
            expectedContext = Tensors.toFloats(ctx);
            expected = Tensors.toFloats(model.unet().forward(x, t, Conditioning.crossAttn(ctx)));
        }
        try (InferenceMode g = new InferenceMode()) {
            float[] context = Tensors.toFloats(sd.encodePrompts(prompts, 0));
            assertEquals(expectedContext.length, context.length);
            for (int i = 0; i < context.length; i++) {
                assertEquals(expectedContext[i], context[i], 1e-5, "context " + i);
            }
            Tensor same = Tensors.fromFloats(expectedContext, 2, 77, model.textEncoder().contextDim());
            assertArrayEquals(expected, Tensors.toFloats(sd.unet().forward(x, t, Conditioning.crossAttn(same))), 0f, "UNet output");
        }
    }

    @Test
    void aConfigThatDoesNotMatchTheCheckpointIsAClearError() throws IOException {
        Path bad = tmp.resolve("bad.yaml");
        Files.writeString(bad, Files.readString(Fixtures.path("sd1-tiny/config.yaml"))
                .replace("model_channels: 32", "model_channels: 64"));
        ModelFileException e = assertThrows(ModelFileException.class,
                () -> LatentDiffusion.fromCheckpoint(checkpoint(), ModelConfig.fromYaml(bad), false));
        assertTrue(e.getMessage().contains("does not match model.safetensors"), e.getMessage());
        assertTrue(e.getMessage().contains("model.diffusion_model."), e.getMessage());
        assertTrue(e.getMessage().contains("[64, 4, 3, 3]") || e.getMessage().contains("64"), e.getMessage());

        Path badContext = tmp.resolve("ctx.yaml");
        Files.writeString(badContext, Files.readString(Fixtures.path("sd1-tiny/config.yaml"))
                .replace("hidden_size: 32", "hidden_size: 64"));
        ModelFileException e2 = assertThrows(ModelFileException.class,
                () -> LatentDiffusion.fromCheckpoint(checkpoint(), ModelConfig.fromYaml(badContext), false));
        assertTrue(e2.getMessage().contains("cond_stage_model."), e2.getMessage());
    }

    @Test
    void anInpaintingCheckpointIsRefused() {
        // the fixture paths outside assertThrows: without the fixtures the test is skipped, not failed
        java.nio.file.Path model = Fixtures.path("sd1-tiny-inpaint/model.safetensors");
        ModelConfig config = ModelConfig.fromYaml(Fixtures.path("sd1-tiny-inpaint/config.yaml"));
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> LatentDiffusion.fromCheckpoint(model, config, false));
        assertTrue(e.getMessage().contains("in_channels"), e.getMessage());
    }

    @Test
    void aTextTowerNarrowerThanTheUNetContextIsRejected() throws IOException {
        Path bad = tmp.resolve("ctx.yaml");
        Files.writeString(bad, Files.readString(TrainTestData.tinyConfigPath()).replace("context_dim: 32", "context_dim: 64"));
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> LatentDiffusion.fromScratch(ModelConfig.fromYaml(bad), 1, null));
        assertTrue(e.getMessage().contains("context_dim 64"), e.getMessage());
    }
}
