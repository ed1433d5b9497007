package dev.ldm4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Torch;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

class EmaTest {
    @Test
    void averageFollowsTheHandComputationWithWarmup() {
        Torch.load();
        Tensor p = Tensors.fromFloats(new float[] {1f, -2f, 0.5f}, 3);
        Ema ema = new Ema(Map.of("w", p), 0.9, true);
        double[] expected = {1, -2, 0.5};
        double[][] values = {{2, 0, 1}, {3, -1, 0}, {-4, 5, 0.25}, {0, 0, 0}, {10, 10, 10}};
        for (int n = 1; n <= values.length; n++) {
            try (NoGradGuard g = new NoGradGuard()) {
                float[] v = new float[3];
                for (int i = 0; i < 3; i++) {
                    v[i] = (float) values[n - 1][i];
                }
                p.copy_(Tensors.fromFloats(v, 3));
            }
            ema.update();
            // LitEma: d_n = min(decay, (1 + n) / (10 + n)); shadow -= (1 - d_n) (shadow - param)
            double d = Math.min(0.9, (1.0 + n) / (10.0 + n));
            assertEquals(d, ema.decayAt(n), 0);
            for (int i = 0; i < 3; i++) {
                expected[i] = d * expected[i] + (1 - d) * values[n - 1][i];
            }
            float[] got = Tensors.toFloats(ema.shadow().get("w"));
            for (int i = 0; i < 3; i++) {
                assertEquals(expected[i], got[i], 1e-6 * Math.max(1, Math.abs(expected[i])), "update " + n + " [" + i + "]");
            }
        }
        assertEquals(values.length, ema.updates());
        // the first updates are dominated by the warmup (2/11, 3/12, ...), the cap takes over at n = 80
        assertEquals(2.0 / 11.0, ema.decayAt(1), 0);
        assertEquals(0.9, ema.decayAt(100), 0);
    }

    @Test
    void constantDecayWithoutWarmupAndTheShadowIsACopy() {
        Torch.load();
        Tensor p = Tensors.fromFloats(new float[] {4f}, 1);
        Ema ema = new Ema(Map.of("w", p), 0.75, false);
        try (NoGradGuard g = new NoGradGuard()) {
            p.copy_(Tensors.fromFloats(new float[] {0f}, 1));
        }
        assertArrayEquals(new float[] {4f}, Tensors.toFloats(ema.shadow().get("w")), "the shadow is a copy, not a view");
        ema.update();
        assertArrayEquals(new float[] {3f}, Tensors.toFloats(ema.shadow().get("w")), 0f);
        ema.update();
        assertArrayEquals(new float[] {2.25f}, Tensors.toFloats(ema.shadow().get("w")), 0f);
        assertEquals(0.75, ema.decayAt(1), 0);
    }
}
