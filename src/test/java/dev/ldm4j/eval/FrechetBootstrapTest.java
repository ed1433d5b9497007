package dev.ldm4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Torch;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class FrechetBootstrapTest {
    private static final int N = 150;
    private static final int D = 4;

    @BeforeAll
    static void load() {
        Torch.load();
    }

    private static Tensor gaussian(Random r, double shift) {
        return gaussian(r, shift, N);
    }

    private static Tensor gaussian(Random r, double shift, int rows) {
        float[] v = new float[rows * D];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * (1 + i % D) + shift);
        }
        return Tensors.fromFloats(v, rows, D);
    }

    @Test
    void standardErrorIsTheSpreadOfTheDistanceOverIndependentSamples() {
        try (PointerScope scope = new PointerScope()) {
            // the spread over 80 independent pairs of samples from the same two distributions ...
            Random r = new Random(7);
            int draws = 80;
            double sum = 0;
            double sumSq = 0;
            for (int k = 0; k < draws; k++) {
                double fd = FrechetDistance.between(gaussian(r, 0.3), gaussian(r, 0));
                sum += fd;
                sumSq += fd * fd;
            }
            double spread = Math.sqrt((sumSq - sum * sum / draws) / (draws - 1));
            // ... and the bootstrap's estimate of it from one pair
            double se = FrechetBootstrap.standardError(gaussian(r, 0.3), gaussian(r, 0), 200, 1);
            assertTrue(se > spread / 2 && se < spread * 2, "bootstrap " + se + " vs spread " + spread);
        }
    }

    @Test
    void theSameSeedGivesTheSameFigures() {
        try (PointerScope scope = new PointerScope()) {
            Random r = new Random(3);
            Tensor a = gaussian(r, 0.2);
            Tensor b = gaussian(r, 0.4);
            Tensor real = gaussian(r, 0);
            assertEquals(FrechetBootstrap.standardError(a, real, 50, 9), FrechetBootstrap.standardError(a, real, 50, 9));
            assertEquals(FrechetBootstrap.shareFirstCloser(a, b, real, 50, 9),
                    FrechetBootstrap.shareFirstCloser(a, b, real, 50, 9));
        }
    }

    @Test
    void aClearDifferenceWinsEveryResampleAndNoDifferenceHalf() {
        try (PointerScope scope = new PointerScope()) {
            Random r = new Random(5);
            Tensor real = gaussian(r, 0);
            Tensor near = gaussian(r, 0.1);
            Tensor far = gaussian(r, 3);
            assertEquals(1.0, FrechetBootstrap.shareFirstCloser(near, far, real, 100, 2));
            assertEquals(0.0, FrechetBootstrap.shareFirstCloser(far, near, real, 100, 2));
            assertEquals(0.5, FrechetBootstrap.shareFirstCloser(near, near, real, 100, 2));
        }
    }

    @Test
    void moreGeneratedImagesPerCaptionMakeTheDistanceLessNoisy() {
        try (PointerScope scope = new PointerScope()) {
            Random r = new Random(11);
            Tensor real = gaussian(r, 0);
            double one = FrechetBootstrap.standardError(gaussian(r, 0.3), real, 200, 1);
            double four = FrechetBootstrap.standardError(gaussian(r, 0.3, 4 * N), real, 200, 1);
            assertTrue(four < one * 0.9, "4 images per caption " + four + " vs 1 " + one);
            Tensor real2 = gaussian(r, 0);
            assertEquals(1.0, FrechetBootstrap.shareFirstCloser(gaussian(r, 0.1, 3 * N), gaussian(r, 3, 3 * N),
                    real2, 50, 2));
        }
    }

    @Test
    void setsMustBePairedByRow() {
        try (PointerScope scope = new PointerScope()) {
            Tensor a = Tensors.fromFloats(new float[3 * D], 3, D);
            Tensor b = Tensors.fromFloats(new float[4 * D], 4, D);
            Tensor six = Tensors.fromFloats(new float[6 * D], 6, D);
            assertThrows(IllegalArgumentException.class, () -> FrechetBootstrap.standardError(a, b, 10, 1));
            assertThrows(IllegalArgumentException.class, () -> FrechetBootstrap.shareFirstCloser(six, b, a, 10, 1),
                    "two generated sets of different sizes");
            assertThrows(IllegalArgumentException.class, () -> FrechetBootstrap.standardError(b, six, 10, 1),
                    "fewer generated rows than real ones");
        }
    }
}
