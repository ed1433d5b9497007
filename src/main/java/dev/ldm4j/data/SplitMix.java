package dev.ldm4j.data;

/**
 * SplitMix64 (Steele, Lea and Flood, OOPSLA 2014): a tiny generator whose output is fixed by its
 * definition, so shuffles and flips are the same on every JVM (java.util.SplittableRandom does not promise
 * its algorithm).
 */
final class SplitMix {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private long state;

    SplitMix(long seed) {
        this.state = seed;
    }

    long nextLong() {
        state += GOLDEN;
        return mix(state);
    }

    /** Uniform in [0, bound); the modulo bias is below bound / 2^64. */
    int nextInt(int bound) {
        return (int) Long.remainderUnsigned(nextLong(), bound);
    }

    /** The SplitMix64 finaliser: a bijection of 64-bit values that scatters every input bit. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** One well-mixed value from several, order-sensitive. */
    static long mix(long a, long b) {
        return mix(mix(a) + GOLDEN * (b + 1));
    }
}
