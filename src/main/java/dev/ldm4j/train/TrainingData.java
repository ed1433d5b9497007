package dev.ldm4j.train;

import dev.ldm4j.data.Batch;

/**
 * Where the training images come from: a fixed order of batches, fixed by the source's own seed, that can be
 * entered at any batch number. A step of training consumes batch number {@code step}, so a resumed run asks
 * for exactly the batches an uninterrupted run would have seen. {@link InMemoryData} is the simple
 * implementation; a data set implements this interface (or hands its examples to {@link InMemoryData}).
 */
public interface TrainingData {
    /** Number of examples in one epoch. */
    int size();

    /**
     * Batch number {@code index} (0-based) of {@code batchSize} examples; the same arguments give the same
     * batch every time. Batches run on across epoch ends (there is no short last batch).
     */
    Batch batch(long index, int batchSize);
}
