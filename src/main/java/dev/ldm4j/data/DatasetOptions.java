package dev.ldm4j.data;

import dev.ldm4j.io.BadRequestException;

/**
 * How a dataset is prepared.
 *
 * @param size  the side N of the square training images
 * @param flip  random horizontal flips, decided by {@code seed}, the epoch and the example's name
 * @param seed  the seed of the flips
 * @param cache keep every prepared N x N image in memory (3 N² bytes each; 48 MB for 4000 images of 64²);
 *              without it each access reads and resizes the file again
 */
public record DatasetOptions(int size, boolean flip, long seed, boolean cache) {
    public DatasetOptions {
        if (size <= 0) {
            throw new BadRequestException("image size must be positive, got " + size);
        }
    }

    /** N x N images, no flips, seed 0, cached in memory. */
    public static DatasetOptions of(int size) {
        return new DatasetOptions(size, false, 0, true);
    }

    public DatasetOptions withFlip(boolean flip) {
        return new DatasetOptions(size, flip, seed, cache);
    }

    public DatasetOptions withSeed(long seed) {
        return new DatasetOptions(size, flip, seed, cache);
    }

    public DatasetOptions withCache(boolean cache) {
        return new DatasetOptions(size, flip, seed, cache);
    }
}
