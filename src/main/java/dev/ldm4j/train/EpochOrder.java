package dev.ldm4j.train;

import java.util.SplittableRandom;

/**
 * The order in which a data set of {@code size} examples is visited: an endless run of epochs, each a seeded
 * random permutation, cut into consecutive batches. Random access by batch number makes resuming exact.
 * Not thread-safe (it keeps the permutation of the last epoch asked for).
 */
public final class EpochOrder {
    private final int size;
    private final long seed;
    private long cachedEpoch = -1;
    private int[] cached;

    public EpochOrder(int size, long seed) {
        if (size <= 0) {
            throw new IllegalArgumentException("a data set needs at least one example");
        }
        this.size = size;
        this.seed = seed;
    }

    /** Example indices of batch {@code index}: positions [index * B, (index + 1) * B) of the stream. */
    public int[] batch(long index, int batchSize) {
        if (index < 0 || batchSize <= 0) {
            throw new IllegalArgumentException("batch " + index + " of size " + batchSize);
        }
        int[] out = new int[batchSize];
        long start = Math.multiplyExact(index, (long) batchSize);
        for (int i = 0; i < batchSize; i++) {
            long pos = start + i;
            out[i] = permutation(pos / size)[(int) (pos % size)];
        }
        return out;
    }

    /** Fisher-Yates shuffle of 0..size-1 from a generator seeded by (seed, epoch). */
    int[] permutation(long epoch) {
        if (epoch != cachedEpoch) {
            SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
            int[] p = new int[size];
            for (int i = 0; i < size; i++) {
                p[i] = i;
            }
            for (int i = size - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = p[i];
                p[i] = p[j];
                p[j] = t;
            }
            cached = p;
            cachedEpoch = epoch;
        }
        return cached;
    }
}
