package dev.ldm4j.data;

/**
 * The order in which a data set of {@code size} examples is visited: epoch after epoch, each a permutation of
 * 0..size-1 by a Fisher-Yates shuffle driven by {@link SplitMix} seeded with (seed, epoch), so the same on
 * every machine. The epochs also form one endless stream of positions (position p is the
 * {@code p % size}-th example of epoch {@code p / size}); random access by epoch or position makes resuming
 * exact. Thread-safe: the last epoch's permutation is kept for the next call (racing threads at worst shuffle
 * twice; a kept permutation is never changed).
 */
public final class EpochOrder {
    private final int size;
    private final long seed;
    private volatile Permutation last;

    private record Permutation(long epoch, int[] indices) {}

    public EpochOrder(int size, long seed) {
        if (size <= 0) {
            throw new IllegalArgumentException("a data set needs at least one example, got " + size);
        }
        this.size = size;
        this.seed = seed;
    }

    public int size() {
        return size;
    }

    /** The example indices in the order epoch {@code epoch} visits them (a copy). */
    public int[] order(long epoch) {
        return permutation(epoch).clone();
    }

    /** The example at {@code position} of the stream. */
    public int at(long position) {
        if (position < 0) {
            throw new IllegalArgumentException("position must be >= 0, got " + position);
        }
        return permutation(position / size)[(int) (position % size)];
    }

    /**
     * Batch {@code index} of the stream cut into batches of {@code batchSize}: the examples at positions
     * [index B, (index + 1) B), running on across epoch ends (there is no short last batch).
     */
    public int[] batch(long index, int batchSize) {
        if (index < 0 || batchSize <= 0) {
            throw new IllegalArgumentException("batch " + index + " of size " + batchSize);
        }
        int[] out = new int[batchSize];
        long start = Math.multiplyExact(index, (long) batchSize);
        for (int i = 0; i < batchSize; i++) {
            out[i] = at(start + i);
        }
        return out;
    }

    /** The permutation of an epoch, shared: callers must not change it. */
    int[] permutation(long epoch) {
        Permutation p = last;
        if (p == null || p.epoch != epoch) {
            p = new Permutation(epoch, shuffle(epoch));
            last = p;
        }
        return p.indices;
    }

    private int[] shuffle(long epoch) {
        int[] p = new int[size];
        for (int i = 0; i < size; i++) {
            p[i] = i;
        }
        SplitMix rng = new SplitMix(SplitMix.mix(seed, epoch));
        for (int i = size - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
