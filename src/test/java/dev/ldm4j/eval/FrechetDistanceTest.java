package dev.ldm4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Torch;
import java.util.Random;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class FrechetDistanceTest {
    @BeforeAll
    static void load() {
        Torch.load();
    }

    private static float[] randomRows(long seed, int n, int d, double scale, double shift) {
        Random r = new Random(seed);
        float[] v = new float[n * d];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * scale * (1 + i % d) + shift * (i % d == 0 ? 1 : -0.5));
        }
        return v;
    }

    private static double[] mean(float[] v, int n, int d) {
        double[] m = new double[d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                m[j] += v[i * d + j] / (double) n;
            }
        }
        return m;
    }

    /** Unbiased 2x2 covariance {a, b, c} = [[a, b], [b, c]], written out independently of the class. */
    private static double[] cov2(float[] v, int n) {
        double[] m = mean(v, n, 2);
        double a = 0;
        double b = 0;
        double c = 0;
        for (int i = 0; i < n; i++) {
            double x = v[2 * i] - m[0];
            double y = v[2 * i + 1] - m[1];
            a += x * x;
            b += x * y;
            c += y * y;
        }
        return new double[] {a / (n - 1), b / (n - 1), c / (n - 1)};
    }

    @Test
    void matchesTheClosedFormInTwoDimensions() {
        // For 2x2 matrices, tr sqrt(S1 S2) = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2)) (the eigenvalues of
        // S1 S2 are real and non-negative): an independent check of the eigen-decomposition route.
        int n = 300;
        int m = 200;
        float[] a = randomRows(1, n, 2, 1.0, 0.0);
        float[] b = randomRows(2, m, 2, 0.7, 1.5);
        // correlate b's columns so that the covariances do not commute
        for (int i = 0; i < m; i++) {
            b[2 * i + 1] += 0.8f * b[2 * i];
        }
        double[] s1 = cov2(a, n);
        double[] s2 = cov2(b, m);
        double[] mu1 = mean(a, n, 2);
        double[] mu2 = mean(b, m, 2);
        double tr12 = s1[0] * s2[0] + s1[1] * s2[1] + s1[1] * s2[1] + s1[2] * s2[2];
        double det1 = s1[0] * s1[2] - s1[1] * s1[1];
        double det2 = s2[0] * s2[2] - s2[1] * s2[1];
        double trSqrt = Math.sqrt(tr12 + 2 * Math.sqrt(det1 * det2));
        double expected = Math.pow(mu1[0] - mu2[0], 2) + Math.pow(mu1[1] - mu2[1], 2) + s1[0] + s1[2] + s2[0] + s2[2]
                - 2 * trSqrt;
        double got = FrechetDistance.between(Tensors.fromFloats(a, n, 2), Tensors.fromFloats(b, m, 2));
        assertEquals(expected, got, 1e-9 * Math.max(1, expected));
    }

    @Test
    void isZeroForTheSameSetAndSymmetric() {
        Tensor a = Tensors.fromFloats(randomRows(3, 100, 8, 1.0, 0.3), 100, 8);
        Tensor b = Tensors.fromFloats(randomRows(4, 80, 8, 1.2, -0.4), 80, 8);
        assertEquals(0, FrechetDistance.between(a, a), 1e-6);
        double ab = FrechetDistance.between(a, b);
        assertEquals(ab, FrechetDistance.between(b, a), 1e-6 * ab);
    }

    @Test
    void rejectsMismatchedFeatureSets() {
        Tensor a = Tensors.fromFloats(new float[6], 3, 2);
        Tensor b = Tensors.fromFloats(new float[9], 3, 3);
        assertThrows(IllegalArgumentException.class, () -> FrechetDistance.between(a, b));
        assertThrows(IllegalArgumentException.class,
                () -> FrechetDistance.between(Tensors.fromFloats(new float[2], 1, 2), a));
    }
}
