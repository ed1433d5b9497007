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
import java.util.function.UnaryOperator;
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
 *
 * <p>Two options aim the judge at what it judges, generated images: {@code balanced} weighs each category's
 * examples by sqrt(n_max / n), so that the small categories (84 "activities" against 2167 "people &amp; body")
 * are not traded for the large one; and a decoder view replaces a share of the examples by their autoencoder
 * round trip, because every generated image comes out of that decoder, smoother than the drawn originals.
 */
public final class ClassifierTrainer {
    /** Training settings. */
    public record Options(int epochs, int batchSize, double lr, double weightDecay, long seed, boolean balanced,
                          double decodedShare) {
        public Options {
            if (epochs < 1 || batchSize < 1 || !(lr > 0)) {
                throw new BadRequestException("epochs and batch size must be >= 1 and lr > 0");
            }
            if (!(decodedShare >= 0 && decodedShare <= 1)) {
                throw new BadRequestException("the share of decoded examples must be in [0, 1], got " + decodedShare);
            }
        }

        /** Unweighted, drawn images only. */
        public Options(int epochs, int batchSize, double lr, double weightDecay, long seed) {
            this(epochs, batchSize, lr, weightDecay, seed, false, 0);
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
        return train(data, o, null, log);
    }

    /**
     * As {@link #train(Dataset, Options, Consumer)}, with {@code roundTrip} (images in [-1, 1] to their
     * autoencoder reconstruction) giving the decoded examples that {@link Options#decodedShare} asks for.
     */
    public static CategoryClassifier train(Dataset data, Options o, UnaryOperator<Tensor> roundTrip,
            Consumer<String> log) {
        if (o.decodedShare() > 0 && roundTrip == null) {
            throw new IllegalArgumentException("a share of decoded examples needs the autoencoder round trip");
        }
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
        SplittableRandom decodedCoins = new SplittableRandom(o.seed() + 1);
        Tensor weights = o.balanced() ? l.categoryWeights() : null;
        Tensor decoded = o.decodedShare() > 0 ? l.decoded(roundTrip) : null;
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
                    if (decoded != null) {
                        images = l.withDecoded(images, decoded, idx, epoch, decodedCoins, o.decodedShare());
                    }
                    images = torch.roll(images, new long[] {shifts.nextInt(-MAX_SHIFT, MAX_SHIFT + 1),
                            shifts.nextInt(-MAX_SHIFT, MAX_SHIFT + 1)}, 2, 3);
                    Tensor target = l.targets(idx);
                    Tensor logits = model.logits(model.features(images));
                    Tensor loss = weights == null ? torch.cross_entropy_loss(logits, target)
                            : weightedCrossEntropy(logits, target, weights);
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
        if (decoded != null) {
            decoded.close();
        }
        return model;
    }

    /** Mean over the batch of -log p(target), each example weighted by its category's weight. */
    static Tensor weightedCrossEntropy(Tensor logits, Tensor target, Tensor weights) {
        Tensor nll = torch.log_softmax(logits, 1).gather(1, target.unsqueeze(1)).squeeze(1).neg();
        Tensor w = weights.index_select(0, target);
        return nll.mul(w).sum().div(w.sum());
    }

    /**
     * Per-category accuracy of {@code model} on {@code data}'s categorised examples, each passed through
     * {@code view} first (identity for the images as drawn): the counts by category label, in category order.
     */
    public static java.util.Map<String, int[]> accuracyByCategory(CategoryClassifier model, Dataset data,
            UnaryOperator<Tensor> view) {
        Labelled l = Labelled.of(data);
        java.util.Map<String, int[]> out = new java.util.LinkedHashMap<>();
        for (EmojiCategory c : EmojiCategory.values()) {
            out.put(c.label(), new int[2]);
        }
        try (NoGradGuard g = new NoGradGuard()) {
            for (int from = 0; from < l.size(); from += 128) {
                try (PointerScope scope = new PointerScope()) {
                    int[] idx = java.util.stream.IntStream.range(from, Math.min(l.size(), from + 128)).toArray();
                    EmojiCategory[] p = model.predict(view.apply(l.images(idx, -1)));
                    for (int k = 0; k < idx.length; k++) {
                        int[] counts = out.get(l.categories.get(idx[k]).label());
                        counts[0]++;
                        counts[1] += p[k] == l.categories.get(idx[k]) ? 1 : 0;
                    }
                }
            }
        }
        out.values().removeIf(c -> c[0] == 0);
        return out;
    }

    /** Share of {@code data}'s categorised examples that {@code model} puts in their caption's category. */
    public static double accuracy(CategoryClassifier model, Dataset data) {
        int n = 0;
        int correct = 0;
        for (int[] counts : accuracyByCategory(model, data, x -> x).values()) {
            n += counts[0];
            correct += counts[1];
        }
        return n == 0 ? Double.NaN : correct / (double) n;
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

        /** sqrt(n_max / n) for each category's n examples (0 for a category without any), [9] float. */
        Tensor categoryWeights() {
            int[] counts = new int[EmojiCategory.values().length];
            categories.forEach(c -> counts[c.ordinal()]++);
            int max = java.util.Arrays.stream(counts).max().orElse(1);
            float[] w = new float[counts.length];
            for (int k = 0; k < w.length; k++) {
                w[k] = counts[k] == 0 ? 0 : (float) Math.sqrt((double) max / counts[k]);
            }
            return Tensors.fromFloats(w, w.length);
        }

        /** Every labelled example, unflipped, through {@code roundTrip}: [N, 3, 64, 64], kept by the caller. */
        Tensor decoded(UnaryOperator<Tensor> roundTrip) {
            List<Tensor> parts = new ArrayList<>();
            try (NoGradGuard g = new NoGradGuard()) {
                for (int from = 0; from < size(); from += 64) {
                    int[] idx = java.util.stream.IntStream.range(from, Math.min(size(), from + 64)).toArray();
                    try (PointerScope scope = new PointerScope()) {
                        Tensor r = roundTrip.apply(images(idx, -1)).to(ScalarType.Float).clamp(
                                new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(-1.0)),
                                new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(1.0)));
                        parts.add(Tensors.retain(r));
                    }
                }
                return torch.cat(new TensorVector(parts.toArray(Tensor[]::new)), 0);
            } finally {
                parts.forEach(Tensor::releaseReference);
            }
        }

        /**
         * {@code images} (examples {@code idx} as seen in {@code epoch}) with each replaced, with probability
         * {@code share}, by its decoded copy, mirrored as the dataset mirrors it in that epoch.
         */
        Tensor withDecoded(Tensor images, Tensor decoded, int[] idx, long epoch, SplittableRandom coins,
                double share) {
            Tensor[] t = new Tensor[idx.length];
            for (int k = 0; k < idx.length; k++) {
                boolean swap = coins.nextDouble() < share;
                if (!swap) {
                    t[k] = images.select(0, k);
                    continue;
                }
                Tensor d = decoded.select(0, idx[k]);
                t[k] = data.flipped(examples.get(idx[k]), epoch) ? d.flip(new long[] {2}) : d;
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
