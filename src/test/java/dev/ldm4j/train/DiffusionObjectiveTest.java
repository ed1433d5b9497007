package dev.ldm4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Torch;
import dev.ldm4j.sampling.NoiseSchedule;
import dev.ldm4j.sampling.Prediction;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

class DiffusionObjectiveTest {
    private static final NoiseSchedule SD = NoiseSchedule.stableDiffusion();
    private static final long[] T = {0, 500, 999};
    // one value per example, spread over a [3, 1, 1, 2] latent
    private static final float[] X0 = {0.5f, -1f, 2f, 0.25f, -0.75f, 1.5f};
    private static final float[] NOISE = {-1f, 0.3f, 0.7f, -2f, 1.1f, 0.05f};

    private static Tensor t() {
        return Tensors.fromLongs(T, 3);
    }

    private static Tensor x(float[] v) {
        return Tensors.fromFloats(v, 3, 1, 1, 2);
    }

    @Test
    void noisedLatentsAndTargets() {
        Torch.load();
        for (Prediction p : Prediction.values()) {
            DiffusionObjective o = new DiffusionObjective(SD, p, 0);
            float[] xt = Tensors.toFloats(o.noised(x(X0), x(NOISE), t()));
            float[] target = Tensors.toFloats(o.target(x(X0), x(NOISE), t()));
            for (int i = 0; i < 6; i++) {
                double a = SD.alphaCumprod((int) T[i / 2]);
                assertEquals(Math.sqrt(a) * X0[i] + Math.sqrt(1 - a) * NOISE[i], xt[i], 1e-6, "x_t " + i);
                double v = Math.sqrt(a) * NOISE[i] - Math.sqrt(1 - a) * X0[i];
                assertEquals(p == Prediction.V ? v : NOISE[i], target[i], 1e-6, p + " target " + i);
            }
        }
    }

    @Test
    void minSnrWeights() {
        Torch.load();
        double gamma = 5;
        for (Prediction p : Prediction.values()) {
            float[] w = Tensors.toFloats(new DiffusionObjective(SD, p, gamma).weights(t()));
            for (int i = 0; i < 3; i++) {
                double a = SD.alphaCumprod((int) T[i]);
                double snr = a / (1 - a);
                double expected = Math.min(snr, gamma) / (p == Prediction.V ? snr + 1 : snr);
                assertEquals(expected, w[i], 1e-6 * expected, p + " weight at t=" + T[i]);
            }
        }
        // at t = 0 the SNR is ~1000: the eps weight is gamma / SNR, far below 1; at t = 999 it is 1
        float[] eps = Tensors.toFloats(new DiffusionObjective(SD, Prediction.EPS, gamma).weights(t()));
        assertEquals(1.0, eps[2], 0);
        assertEquals(5.0 / (SD.alphaCumprod(0) / (1 - SD.alphaCumprod(0))), eps[0], 1e-6);
    }

    @Test
    void lossIsTheWeightedMeanOfPerExampleSquaredErrors() {
        Torch.load();
        float[] out = {0f, 0f, 1f, 1f, -1f, 2f};
        for (double gamma : new double[] {0, 5}) {
            DiffusionObjective o = new DiffusionObjective(SD, Prediction.EPS, gamma);
            double loss = o.loss(x(out), x(NOISE), t()).item().toDouble();
            double expected = 0;
            for (int b = 0; b < 3; b++) {
                double mse = 0;
                for (int j = 0; j < 2; j++) {
                    double d = out[2 * b + j] - NOISE[2 * b + j];
                    mse += d * d / 2;
                }
                double a = SD.alphaCumprod((int) T[b]);
                double snr = a / (1 - a);
                expected += (gamma == 0 ? 1 : Math.min(snr, gamma) / snr) * mse / 3;
            }
            assertEquals(expected, loss, 1e-6 * expected, "gamma " + gamma);
        }
    }
}
