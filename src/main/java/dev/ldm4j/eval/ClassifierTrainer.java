package dev.ldm4j.eval;

import dev.ldm4j.data.Dataset;
import dev.ldm4j.data.EpochOrder;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.nn.AdamWOptimizer;
import dev.ldm4j.nn.RandomSource;
import dev.ldm4j.nn.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;

/**
 * Trains the {@link CategoryClassifier} on the captioned images whose caption names a category: AdamW,
 * cross-entropy, seeded shuffling, and two augmentations so that the judge does not reward copies of the
 * training pixels: the dataset's horizontal flips (when its options ask for them) and a random shift of up to
 * 4 pixels per batch (wrapping round; emoji sit on a white margin). Deterministic for a seed on one thread.
 */
public final class ClassifierTrainer {
    /** Training settings. */
    public record Options(int epochs, int batchSize, double lr, double weightDecay, long seed) {
        public Options {
            if (epochs < 1 || batchSize < 1 || !(lr > 0)) {
                throw new BadRequestException("epochs and batch size must be >= 1 and lr > 0");
            }
        }
    }

    private static final int MAX_SHIFT = 4;

    private ClassifierTrainer() {}

    /**
     * Trains a classifier from random weights on {@code data}'s examples with a category; {@code log} gets
     * one line per epoch (loss, training accuracy).
     *
     * @throws BadRequestException when no example names a category
     */
    public static CategoryClassifier train(Dataset data, Options o, Consumer<String> log) {
        Labelled l = Labelled.of(data);
        if (l.size() == 0) {
            throw new BadRequestException("no image of " + data.folder() + " has a caption naming an emoji "
                    + "category (" + EmojiCategory.PEOPLE_AND_BODY.label() + ", ...)");
        }
        if (data.imageSize() != CategoryClassifier.SIZE) {
            throw new IllegalArgumentException("the category classifier takes 64x64 images, the dataset gives "
                    + data.imageSize() + "x" + data.imageSize());
        }
        CategoryClassifier model = new CategoryClassifier(new RandomSource(o.seed(), ScalarType.Float));
        model.parameters().values().forEach(p -> p.requires_grad_(true));
        AdamWOptimizer opt = new AdamWOptimizer(model.parameters(),
                new AdamWOptimizer.Settings(0.9, 0.999, 1e-8, o.weightDecay()));
        EpochOrder order = new EpochOrder(l.size(), o.seed());
        SplittableRandom shifts = new SplittableRandom(o.seed());
        int perEpoch = (l.size() + o.batchSize() - 1) / o.batchSize();
        long total = (long) perEpoch * o.epochs();
        for (int epoch = 0; epoch < o.epochs(); epoch++) {
            double lossSum = 0;
            int correct = 0;
            for (int b = 0; b < perEpoch; b++) {
                long step = (long) epoch * perEpoch + b;
                try (PointerScope scope = new PointerScope()) {
                    int[] idx = order.batch(step, o.batchSize());
                    Tensor images = l.images(idx, epoch);
                    images = torch.roll(images, new long[] {shifts.nextInt(-MAX_SHIFT, MAX_SHIFT + 1),
                            shifts.nextInt(-MAX_SHIFT, MAX_SHIFT + 1)}, 2, 3);
                    Tensor target = l.targets(idx);
                    Tensor logits = model.logits(model.features(images));
                    Tensor loss = torch.cross_entropy_loss(logits, target);
                    model.parameters().values().forEach(p -> {
                        if (p.grad().defined()) {
                            p.grad().zero_();
                        }
                    });
                    loss.backward();
                    // cosine decay to 0: a short run ends on a settled model
                    double lr = o.lr() * 0.5 * (1 + Math.cos(Math.PI * step / total));
                    opt.step(lr);
                    lossSum += loss.item_double() * idx.length;
                    try (NoGradGuard g = new NoGradGuard()) {
                        correct += torch.argmax(logits, new org.bytedeco.pytorch.LongOptional(1), false)
                                .eq(target).sum().item_long();
                    }
                }
            }
            int seen = perEpoch * o.batchSize();
            log.accept(String.format(java.util.Locale.ROOT, "epoch %d/%d: loss %.4f, training accuracy %.3f",
                    epoch + 1, o.epochs(), lossSum / seen, correct / (double) seen));
        }
        model.parameters().values().forEach(p -> p.requires_grad_(false));
        return model;
    }

    /** Share of {@code data}'s categorised examples that {@code model} puts in their caption's category. */
    public static double accuracy(CategoryClassifier model, Dataset data) {
        Labelled l = Labelled.of(data);
        int correct = 0;
        try (NoGradGuard g = new NoGradGuard()) {
            for (int from = 0; from < l.size(); from += 128) {
                try (PointerScope scope = new PointerScope()) {
                    int[] idx = java.util.stream.IntStream.range(from, Math.min(l.size(), from + 128)).toArray();
                    EmojiCategory[] p = model.predict(l.images(idx, -1));
                    for (int k = 0; k < idx.length; k++) {
                        correct += p[k] == l.categories.get(idx[k]) ? 1 : 0;
                    }
                }
            }
        }
        return l.size() == 0 ? Double.NaN : correct / (double) l.size();
    }

    /** The examples of a dataset whose caption names a category, with their categories. */
    record Labelled(Dataset data, List<Integer> examples, List<EmojiCategory> categories) {
        static Labelled of(Dataset data) {
            List<Integer> ex = new ArrayList<>();
            List<EmojiCategory> cats = new ArrayList<>();
            for (int i = 0; i < data.size(); i++) {
                int k = i;
                EmojiCategory.ofCaption(data.caption(i)).ifPresent(c -> {
                    ex.add(k);
                    cats.add(c);
                });
            }
            return new Labelled(data, ex, cats);
        }

        int size() {
            return examples.size();
        }

        /** Images [B, 3, N, N] of the given labelled examples; epoch -1 = without augmentation. */
        Tensor images(int[] idx, long epoch) {
            Tensor[] t = new Tensor[idx.length];
            for (int k = 0; k < idx.length; k++) {
                int i = examples.get(idx[k]);
                t[k] = (epoch < 0 ? data.get(i) : data.get(i, epoch)).image();
            }
            return torch.stack(new TensorVector(t), 0);
        }

        Tensor targets(int[] idx) {
            long[] v = new long[idx.length];
            for (int k = 0; k < idx.length; k++) {
                v[k] = categories.get(idx[k]).ordinal();
            }
            return Tensors.fromLongs(v, v.length);
        }
    }
}
