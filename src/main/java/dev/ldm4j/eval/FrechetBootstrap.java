package dev.ldm4j.eval;

import dev.ldm4j.nn.Tensors;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * How much the Fréchet distance of an evaluation moves with the sample: a bootstrap over the held-out captions.
 * Each resample draws N caption indices with replacement and keeps, for each, its generated image and its real
 * image together, since the two sets are paired by caption. At the eval's size (155 captions, 128 features)
 * the distance is noisy; these figures say whether a difference between two models is more than that noise.
 *
 * <p>A caption may have several generated images (rows {@code i * k .. i * k + k - 1} for caption i, k being
 * the generated rows over the real rows); a resample then takes all k of each caption it draws.
 */
public final class FrechetBootstrap {
    private FrechetBootstrap() {}

    /**
     * The bootstrap standard error of {@link FrechetDistance#between}(generated, real).
     *
     * @param generated [N * k, D] features of the generated images, rows i * k .. i * k + k - 1 for caption i
     * @param real      [N, D] features of the real images, row i for caption i
     */
    public static double standardError(Tensor generated, Tensor real, int resamples, long seed) {
        int k = requirePaired(generated, generated, real);
        SplittableRandom random = new SplittableRandom(seed);
        double sum = 0;
        double sumSq = 0;
        for (int r = 0; r < resamples; r++) {
            try (PointerScope scope = new PointerScope()) {
                long[] drawn = draw(random, real.size(0));
                double fd = FrechetDistance.between(generated.index_select(0, rows(drawn, k)),
                        real.index_select(0, rows(drawn, 1)));
                sum += fd;
                sumSq += fd * fd;
            }
        }
        double mean = sum / resamples;
        return Math.sqrt(Math.max(sumSq / resamples - mean * mean, 0) * resamples / (resamples - 1.0));
    }

    /**
     * The share of paired resamples in which {@code a}'s generated images are closer to the real ones than
     * {@code b}'s (ties count half): near 1 or 0 when the difference holds across samples of captions, near 0.5
     * when it is noise.
     */
    public static double shareFirstCloser(Tensor a, Tensor b, Tensor real, int resamples, long seed) {
        int k = requirePaired(a, b, real);
        SplittableRandom random = new SplittableRandom(seed);
        double wins = 0;
        for (int r = 0; r < resamples; r++) {
            try (PointerScope scope = new PointerScope()) {
                long[] drawn = draw(random, real.size(0));
                Tensor idx = rows(drawn, k);
                Tensor y = real.index_select(0, rows(drawn, 1));
                double fa = FrechetDistance.between(a.index_select(0, idx), y);
                double fb = FrechetDistance.between(b.index_select(0, idx), y);
                wins += fa < fb ? 1 : fa == fb ? 0.5 : 0;
            }
        }
        return wins / resamples;
    }

    /** N caption indices drawn with replacement. */
    private static long[] draw(SplittableRandom random, long n) {
        long[] idx = new long[(int) n];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = random.nextLong(n);
        }
        return idx;
    }

    /** The rows of the drawn captions in a set with k rows per caption. */
    private static Tensor rows(long[] captions, int k) {
        long[] out = new long[captions.length * k];
        for (int i = 0; i < captions.length; i++) {
            for (int j = 0; j < k; j++) {
                out[i * k + j] = captions[i] * k + j;
            }
        }
        return Tensors.fromLongs(out, out.length);
    }

    /** The generated rows per caption, after checking that both generated sets have that many for each real row. */
    private static int requirePaired(Tensor a, Tensor b, Tensor real) {
        if (a.dim() != 2 || b.dim() != 2 || real.dim() != 2 || real.size(0) == 0 || a.size(0) != b.size(0)
                || a.size(0) % real.size(0) != 0 || a.size(0) == 0) {
            throw new IllegalArgumentException("the bootstrap needs feature sets [N * k, D] paired with the real "
                    + "set's [N, D], k rows per caption");
        }
        return (int) (a.size(0) / real.size(0));
    }
}
