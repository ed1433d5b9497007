package dev.ldm4j.spark;

import java.nio.charset.StandardCharsets;

/**
 * The seed of a row that names none: a function of the job's seed and the row's id only, so an image does not
 * depend on how the rows were partitioned, in which order they ran or whether a task was retried. The result is
 * in 0..2^32-1, the range AUTOMATIC1111 (and the HTTP API) accept, so a row's seed can be written back into a
 * table or a request as it is.
 */
final class RowSeeds {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private RowSeeds() {}

    static long derive(long jobSeed, String id) {
        // FNV-1a of the id's UTF-8 bytes: fixed by its definition (String.hashCode is too, but only 32 bits)
        long h = 0xcbf29ce484222325L;
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return mix(mix(jobSeed) + GOLDEN * h) & 0xffffffffL;
    }

    /** SplitMix64's finaliser (Steele, Lea and Flood 2014): a bijection that scatters every input bit. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
