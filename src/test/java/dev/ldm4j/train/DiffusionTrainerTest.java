package dev.ldm4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.nn.Precision;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.Prediction;
import dev.ldm4j.text.ClipTextConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@org.junit.jupiter.api.Tag("golden")
class DiffusionTrainerTest {
    @TempDir
    Path tmp;

    static TrainConfig fast() {
        return TrainConfig.defaults().withBatchSize(8).withLearningRate(1e-3).withWarmupSteps(0).withEma(0.99, true)
                .withSeed(7);
    }

    static List<Double> train(DiffusionTrainer trainer, TrainingData data, int steps) {
        List<Double> losses = new ArrayList<>();
        for (int i = 0; i < steps; i++) {
            try (PointerScope scope = new PointerScope()) {
                losses.add(trainer.step(data.batch(trainer.steps(), trainer.config().batchSize())).loss());
            }
        }
        return losses;
    }

    static double mean(List<Double> l) {
        return l.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }

    static void assertSameTensors(Map<String, Tensor> expected, Map<String, Tensor> actual, String what) {
        assertEquals(expected.keySet(), actual.keySet(), what + " keys");
        expected.forEach((k, e) -> {
            Tensor a = actual.get(k);
            assertArrayEquals(Tensors.shape(e), Tensors.shape(a), what + " " + k + " shape");
            assertArrayEquals(Tensors.toFloats(e), Tensors.toFloats(a), 0f, what + " " + k);
        });
    }

    @Test
    void lossGoesDown() {
        LatentDiffusion model = LatentDiffusion.fromScratch(TrainTestData.tinyConfig(), 1, null);
        DiffusionTrainer trainer = new DiffusionTrainer(model, fast());
        List<Double> losses = train(trainer, TrainTestData.squaresData(8, 16, 3), 40);
        double first = mean(losses.subList(0, 8));
        double last = mean(losses.subList(32, 40));
        // the zeroed output layer makes the first loss E[eps^2] ~ 1
        assertEquals(1.0, losses.get(0), 0.2);
        assertTrue(last < 0.7 * first, "loss " + first + " -> " + last + ": " + losses);
        assertEquals(40, trainer.steps());
    }

    /** The loss curve (and the weights) of a run saved after 3 steps and resumed equal those of a straight run. */
    @ParameterizedTest
    @ValueSource(strings = {"fp32", "bf16"})
    void resumeEqualsAnUninterruptedRun(String precision) {
        // v-prediction, min-SNR weighting, caption dropout and the latent cache: every random draw matters
        TrainConfig config = fast().withCaptionDropout(0.3).withMinSnrGamma(5).withCacheLatents(true)
                .withPrecision(Precision.parse(precision)).withBatchSize(4);
        ModelConfig mc = TrainTestData.tinyConfig().withVPrediction(true);
        InMemoryData data = TrainTestData.squaresData(6, 16, 11);

        DiffusionTrainer straight = new DiffusionTrainer(LatentDiffusion.fromScratch(mc, 5, null), config);
        List<Double> expected = train(straight, data, 6);

        DiffusionTrainer first = new DiffusionTrainer(LatentDiffusion.fromScratch(mc, 5, null), config);
        List<Double> actual = new ArrayList<>(train(first, data, 3));
        Path state = tmp.resolve("state.safetensors");
        TrainingState.write(state, first);
        DiffusionTrainer resumed = TrainingState.resume(state);
        assertEquals(3, resumed.steps());
        assertEquals(config, resumed.config());
        assertEquals(Prediction.V, resumed.model().prediction());
        actual.addAll(train(resumed, data, 3));

        assertEquals(expected, actual, "loss curves");
        assertSameTensors(straight.model().parameters(), resumed.model().parameters(), "weights");
        assertSameTensors(straight.exportWeights(), resumed.exportWeights(), "EMA weights");
    }

    @Test
    void stateRoundTripsBitExactly() {
        DiffusionTrainer trainer = new DiffusionTrainer(
                LatentDiffusion.fromScratch(TrainTestData.tinyConfig(), 2, null), fast().withBatchSize(2));
        train(trainer, TrainTestData.squaresData(4, 16, 1), 2);
        Path state = tmp.resolve("state.safetensors");
        TrainingState.write(state, trainer);
        DiffusionTrainer back = TrainingState.resume(state);
        assertSameTensors(trainer.model().parameters(), back.model().parameters(), "parameters");
        assertSameTensors(trainer.ema().shadow(), back.ema().shadow(), "EMA");
        assertSameTensors(trainer.optimizer().expAvg(), back.optimizer().expAvg(), "exp_avg");
        assertSameTensors(trainer.optimizer().expAvgSq(), back.optimizer().expAvgSq(), "exp_avg_sq");
        assertArrayEquals(Tensors.toFloats(trainer.generatorState()), Tensors.toFloats(back.generatorState()));
        assertEquals(trainer.optimizer().steps(), back.optimizer().steps());
        assertEquals(trainer.ema().updates(), back.ema().updates());
        assertSameArchitecture(trainer.model().config(), back.model().config());
        assertTrue(back.model().textTrainable());
        // the trainable set is the same: UNet and text encoder, not the autoencoder
        assertEquals(trainer.model().trainable().keySet(), back.model().trainable().keySet());
        assertTrue(back.model().trainable().keySet().stream().noneMatch(k -> k.startsWith(LatentDiffusion.VAE)));
    }

    static void assertSameArchitecture(ModelConfig expected, ModelConfig actual) {
        assertEquals(expected.unet(), actual.unet());
        assertEquals(expected.vae(), actual.vae());
        assertEquals(expected.vPrediction(), actual.vPrediction());
        assertEquals(expected.architecture(), actual.architecture());
        assertEquals(expected.textLayer(), actual.textLayer());
        assertEquals(ClipTextConfig.fromMap(expected.textModelConfig()), ClipTextConfig.fromMap(actual.textModelConfig()));
        assertEquals(expected.linearStart(), actual.linearStart());
        assertEquals(expected.linearEnd(), actual.linearEnd());
        assertEquals(expected.timesteps(), actual.timesteps());
    }

    @Test
    void scaleByStdGivesUnitVarianceLatents() {
        DiffusionTrainer trainer = new DiffusionTrainer(
                LatentDiffusion.fromScratch(TrainTestData.tinyConfig(), 2, null), fast().withBatchSize(8));
        InMemoryData data = TrainTestData.squaresData(8, 16, 1);
        double s = trainer.scaleLatentsByStd(data.batch(0, 8));
        assertEquals(s, trainer.model().config().vae().scaleFactor(), 0);
        assertNotEquals(1.0, s);
        trainer.step(data.batch(0, 8));
        assertThrowsState(() -> trainer.scaleLatentsByStd(data.batch(0, 8)));
    }

    private static void assertThrowsState(Runnable r) {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, r::run);
    }

    @Test
    void exportedCheckpointHoldsTheEmaWeightsBitExactly() {
        DiffusionTrainer trainer = new DiffusionTrainer(
                LatentDiffusion.fromScratch(TrainTestData.tinyConfig(), 2, null), fast().withBatchSize(2));
        train(trainer, TrainTestData.squaresData(4, 16, 1), 3);
        Path model = tmp.resolve("m.safetensors");
        SdCheckpoint.write(model, tmp.resolve("m.yaml"), trainer, dev.ldm4j.io.DType.F32);
        Map<String, Tensor> exported = trainer.exportWeights();
        try (SafetensorsFile f = SafetensorsFile.open(model)) {
            for (Map.Entry<String, Tensor> e : exported.entrySet()) {
                assertArrayEquals(Tensors.toFloats(e.getValue()), Tensors.toFloats(Tensors.read(f, e.getKey())), 0f,
                        e.getKey());
            }
            // EMA, not the raw weights: a UNet tensor that trained differs from its raw value
            String k = LatentDiffusion.UNET + "time_embed.0.weight";
            assertNotEquals(Tensors.toFloats(trainer.model().parameters().get(k))[0],
                    Tensors.toFloats(Tensors.read(f, k))[0]);
            assertEquals(exported.size() + 1, f.keys().size(), "weights + alphas_cumprod");
        }
    }
}
