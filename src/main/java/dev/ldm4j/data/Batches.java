package dev.ldm4j.data;

import dev.ldm4j.nn.Tensors;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Shuffled batches over a dataset, epoch after epoch. Epoch e visits every example exactly once, in the
 * order {@link #order(long)}, an {@link EpochOrder} of the seed. Batch b of epoch e holds positions
 * [b B, (b + 1) B) of that order; with {@code dropLast} the examples left over after the last full batch sit
 * out that epoch (a different few each time), otherwise the last batch is smaller.
 *
 * <p>Batches are addressed by a global step as well ({@link #at(long)}: epoch = step / batchesPerEpoch),
 * so a resumed run that knows its step gets exactly the batches an uninterrupted run would have had.
 * Images are flipped as {@link Dataset#get(int, long)} does for that epoch.
 */
public final class Batches {
    private final Dataset dataset;
    private final int batchSize;
    private final boolean dropLast;
    private final long seed;
    private final int perEpoch;
    private final EpochOrder epochs;

    Batches(Dataset dataset, int batchSize, boolean dropLast, long seed) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        int n = dataset.size();
        if (n == 0) {
            throw new IllegalArgumentException("cannot make batches of an empty dataset (" + dataset + ")");
        }
        if (dropLast && n < batchSize) {
            throw new IllegalArgumentException("dataset of " + n + " examples holds no full batch of " + batchSize
                    + " (drop_last); use a smaller batch");
        }
        this.dataset = dataset;
        this.batchSize = batchSize;
        this.dropLast = dropLast;
        this.seed = seed;
        this.perEpoch = dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
        this.epochs = new EpochOrder(n, seed);
    }

    public Dataset dataset() {
        return dataset;
    }

    public int batchSize() {
        return batchSize;
    }

    public boolean dropLast() {
        return dropLast;
    }

    public long seed() {
        return seed;
    }

    public int batchesPerEpoch() {
        return perEpoch;
    }

    /** The dataset indices in the order epoch {@code epoch} visits them (a permutation of 0..size-1). */
    public int[] order(long epoch) {
        return epochs.order(epoch);
    }

    /** The dataset indices of batch {@code index} (0-based) of an epoch. */
    public int[] indices(long epoch, int index) {
        checkIndex(index);
        int[] order = epochs.permutation(epoch);
        int from = index * batchSize;
        int to = Math.min(from + batchSize, order.length);
        int[] out = new int[to - from];
        System.arraycopy(order, from, out, 0, out.length);
        return out;
    }

    /** The dataset indices of the batch at a global step. */
    public int[] indices(long step) {
        return indices(epochOf(step), indexInEpoch(step));
    }

    /** Batch {@code index} of an epoch. */
    public Batch get(long epoch, int index) {
        return load(indices(epoch, index), epoch);
    }

    /** The batch of a global step (0-based): batch {@code step % perEpoch} of epoch {@code step / perEpoch}. */
    public Batch at(long step) {
        return get(epochOf(step), indexInEpoch(step));
    }

    public long epochOf(long step) {
        checkStep(step);
        return step / perEpoch;
    }

    public int indexInEpoch(long step) {
        checkStep(step);
        return (int) (step % perEpoch);
    }

    /** The batches of one epoch, in order. */
    public Iterator<Batch> epoch(long epoch) {
        int[] order = epochs.permutation(epoch);
        return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < perEpoch;
            }

            @Override
            public Batch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int from = next++ * batchSize;
                int[] idx = new int[Math.min(batchSize, order.length - from)];
                System.arraycopy(order, from, idx, 0, idx.length);
                return load(idx, epoch);
            }
        };
    }

    /** Batches from a global step on, without end (epoch after epoch). */
    public Iterator<Batch> from(long step) {
        checkStep(step);
        return new Iterator<>() {
            private long s = step;

            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Batch next() {
                return at(s++);
            }
        };
    }

    private Batch load(int[] idx, long epoch) {
        int n = dataset.imageSize();
        int one = 3 * n * n;
        float[] v = new float[idx.length * one];
        List<String> captions = new ArrayList<>(idx.length);
        List<String> keys = new ArrayList<>(idx.length);
        for (int b = 0; b < idx.length; b++) {
            dataset.fill(idx[b], dataset.flipped(idx[b], epoch), v, b * one);
            captions.add(dataset.caption(idx[b]));
            keys.add(dataset.key(idx[b], epoch));
        }
        return new Batch(Tensors.fromFloats(v, idx.length, 3, n, n), captions, keys);
    }

    private void checkIndex(int index) {
        if (index < 0 || index >= perEpoch) {
            throw new IndexOutOfBoundsException("batch " + index + " of an epoch of " + perEpoch);
        }
    }

    private static void checkStep(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
    }
}
