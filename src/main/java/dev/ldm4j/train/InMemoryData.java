package dev.ldm4j.train;

import dev.ldm4j.data.Batch;
import dev.ldm4j.data.EpochOrder;
import dev.ldm4j.data.Example;
import dev.ldm4j.nn.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;

/**
 * Training examples held in memory, visited in a seeded {@link EpochOrder}; each example's name is its key in
 * the latent cache.
 */
public final class InMemoryData implements TrainingData {
    private final List<Example> examples;
    private final EpochOrder order;
    private final long[] shape;

    public InMemoryData(List<Example> examples, long seed) {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("no training examples");
        }
        this.examples = List.copyOf(examples);
        this.shape = Tensors.shape(examples.get(0).image());
        for (Example e : this.examples) {
            long[] s = Tensors.shape(e.image());
            if (s.length != 3 || s[0] != 3 || !Arrays.equals(s, shape)) {
                throw new IllegalArgumentException("example '" + e.name() + "' has shape " + Arrays.toString(s)
                        + "; every image must be [3, H, W] of one size, " + Arrays.toString(shape));
            }
            if (Tensors.scalarType(e.image()) != ScalarType.Float) {
                throw new IllegalArgumentException("example '" + e.name() + "' is not float32");
            }
            // the examples outlive whatever scope the caller built them in
            e.image().retainReference();
        }
        this.order = new EpochOrder(examples.size(), seed);
    }

    @Override
    public int size() {
        return examples.size();
    }

    /** Height and width of the images. */
    public long[] imageShape() {
        return shape.clone();
    }

    @Override
    public Batch batch(long index, int batchSize) {
        int[] idx = order.batch(index, batchSize);
        List<Tensor> images = new ArrayList<>(batchSize);
        List<String> captions = new ArrayList<>(batchSize);
        List<String> keys = new ArrayList<>(batchSize);
        for (int i : idx) {
            Example e = examples.get(i);
            images.add(e.image());
            captions.add(e.caption());
            keys.add(e.name());
        }
        Tensor stacked = torch.stack(new TensorVector(images.toArray(Tensor[]::new)), 0);
        return new Batch(stacked, captions, keys);
    }
}
