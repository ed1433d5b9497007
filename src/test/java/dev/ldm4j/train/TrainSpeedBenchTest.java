package dev.ldm4j.train;

import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.nn.Precision;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Training throughput of bench-ldm.yaml at batch 32 (latents cached, so the frozen autoencoder is out of the
 * loop), fp32 against bf16 autocast. Not a test: runs only with {@code -Dldm4j.bench=true}, e.g.
 * {@code ./mvnw -q -o test -Dtest=TrainSpeedBenchTest -Dldm4j.bench=true -Dthreads=2}.
 */
class TrainSpeedBenchTest {
    @Test
    void samplesPerSecond() throws URISyntaxException {
        Assumptions.assumeTrue(Boolean.getBoolean("ldm4j.bench"), "benchmark: run with -Dldm4j.bench=true");
        torch.set_num_threads(Integer.getInteger("threads", Runtime.getRuntime().availableProcessors()));
        ModelConfig mc = ModelConfig.fromYaml(Path.of(getClass().getResource("bench-ldm.yaml").toURI()));
        int batch = Integer.getInteger("batch", 32);
        int steps = Integer.getInteger("steps", 10);
        InMemoryData data = new InMemoryData(TrainTestData.squares(64, 64), 1);
        for (String p : System.getProperty("precisions", "fp32,bf16").split(",")) {
            DiffusionTrainer trainer = new DiffusionTrainer(LatentDiffusion.fromScratch(mc, 1, null),
                    TrainConfig.defaults().withBatchSize(batch).withCacheLatents(true).withPrecision(Precision.parse(p)));
            double best = Double.MAX_VALUE;
            double total = 0;
            // the first epoch fills the latent cache; one more step warms up
            int warm = 64 / batch + 1;
            for (int i = 0; i < warm + steps; i++) {
                try (PointerScope scope = new PointerScope()) {
                    StepResult r = trainer.step(data.batch(trainer.steps(), batch));
                    if (i >= warm) {
                        total += r.seconds();
                        best = Math.min(best, r.seconds());
                    }
                }
            }
            System.out.printf(Locale.ROOT, "%s, batch %d, %d threads: %.1f samples/s mean, %.1f best step%n", p, batch,
                    torch.get_num_threads(), batch * steps / total, batch / best);
        }
    }
}
