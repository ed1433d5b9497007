package dev.ldm4j.train.vae;

import dev.ldm4j.nn.Precision;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Images/s of the f=4 configuration; runs only with -Dldm4j.vaebench=true. */
class SpeedProbeTest {
    @Test
    void imagesPerSecond() {
        Assumptions.assumeTrue(Boolean.getBoolean("ldm4j.vaebench"), "set -Dldm4j.vaebench=true");
        for (String cfg : new String[] {"ch: 64|[ 1,2,2 ]|1", "ch: 32|[ 1,2,4 ]|2", "ch: 64|[ 1,1,2 ]|1"}) {
            String[] p = cfg.split("\\|");
            String yaml = AutoencoderTrainerTest.tinyYaml(1_000_000).replace("ch: 32", p[0])
                    .replace("ch_mult: [ 1,2 ]", "ch_mult: " + p[1]).replace("num_res_blocks: 1", "num_res_blocks: " + p[2])
                    .replace("resolution: 16", "resolution: 64");
            AutoencoderSpec spec = AutoencoderSpec.parse(yaml);
            for (Precision prec : Precision.values()) {
                AutoencoderTrainer t = AutoencoderTrainer.create(spec,
                        VaeTrainOptions.of(spec, 16, 1).withPrecision(prec));
                Tensor x = AutoencoderTrainerTest.images(16, 64);
                t.step(x);
                double s = 0;
                int n = 3;
                for (int i = 0; i < n; i++) {
                    s += t.step(x).seconds();
                }
                System.err.printf("%s %s mult %s blocks %s params %.2fM: %.1f img/s%n", p[0], prec, p[1], p[2],
                        AutoencoderTrainer.count(t.vaeParameters()) / 1e6, 16 * n / s);
            }
        }
    }
}
