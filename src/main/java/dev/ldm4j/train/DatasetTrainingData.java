package dev.ldm4j.train;

import dev.ldm4j.data.Batch;
import dev.ldm4j.data.Dataset;
import dev.ldm4j.data.EpochOrder;
import dev.ldm4j.data.NamePrompts;
import dev.ldm4j.data.TagDropout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * A {@link Dataset} (image folder with captions, resized, cropped, optionally flipped) as training data. The
 * examples form one endless stream, epoch after epoch, each epoch in the dataset's seeded order; batch i is
 * the i-th run of {@code batchSize} examples of that stream, so a resumed run sees the same batches, batches
 * run on across epoch ends, and a batch may be larger than a small data set. Each image's key names its
 * pixels (a flipped copy has its own) for the latent cache.
 */
public final class DatasetTrainingData implements TrainingData {
    private final Dataset dataset;
    private final EpochOrder order;
    private final long seed;
    private final TagDropout tagDropout;
    private final NamePrompts namePrompts;

    public DatasetTrainingData(Dataset dataset, long seed) {
        this(dataset, seed, TagDropout.NONE);
    }

    /** With captions shortened by {@code tagDropout}, its coins seeded by (seed, stream position). */
    public DatasetTrainingData(Dataset dataset, long seed, TagDropout tagDropout) {
        this(dataset, seed, tagDropout, NamePrompts.NONE);
    }

    /** As above, a share of the captions replaced by one of their names first ({@code namePrompts}). */
    public DatasetTrainingData(Dataset dataset, long seed, TagDropout tagDropout, NamePrompts namePrompts) {
        this.dataset = dataset;
        this.order = new EpochOrder(dataset.size(), seed);
        this.seed = seed;
        this.tagDropout = tagDropout;
        this.namePrompts = namePrompts;
    }

    @Override
    public int size() {
        return dataset.size();
    }

    @Override
    public Batch batch(long index, int batchSize) {
        List<Tensor> images = new ArrayList<>();
        List<String> captions = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        int n = dataset.size();
        for (int k = 0; k < batchSize; k++) {
            long p = index * batchSize + k;
            long epoch = p / n;
            int i = order.at(p);
            images.add(dataset.get(i, epoch).image());
            captions.add(namePrompts.apply(dataset.caption(i), new SplittableRandom(seed * 0x9E3779B97F4A7C15L + p),
                    tagDropout));
            keys.add(dataset.key(i, epoch));
        }
        Tensor stacked = torch.stack(new TensorVector(images.toArray(Tensor[]::new)));
        return new Batch(stacked, captions, keys);
    }
}
