package dev.ldm4j.eval;

import dev.ldm4j.data.Split;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.pipeline.GenerationRequest;
import dev.ldm4j.pipeline.GenerationResult;
import dev.ldm4j.pipeline.Generator;
import dev.ldm4j.sampling.StepListener;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The default model's quality figures ({@code ldm4j eval}): for every held-out image whose caption names a
 * category, one image (or {@code seedsPerCaption}) is generated from that caption and judged by the
 * {@link CategoryClassifier}; its features also give a Fréchet distance to the real held-out images. Three
 * reference figures keep these honest: the majority-class rate of the held-out set (what always answering
 * its commonest category would score), the classifier's accuracy on the same real held-out images (the ceiling)
 * and the Fréchet distance between as many real training images, of the same categories, and the real
 * held-out images (what a model that reproduced the training images would score at this sample size). The
 * autoencoder's held-out PSNR is measured on the same images.
 */
public final class EmojiEval {
    /**
     * How the images are generated. {@code promptTags} 0 prompts with the whole held-out caption; k >= 1 with
     * only its first k comma-separated tags (1: the emoji's name alone, "red apple", as a user would type it).
     * {@code seedsPerCaption} images are generated from each caption; more make the accuracy and the Fréchet
     * distance less noisy (the distance's noise between two models comes from their generated images, since
     * both are compared with the same real ones).
     */
    public record Settings(int steps, double cfgScale, String sampler, String scheduler, long seed, int limit,
                           int promptTags, int seedsPerCaption) {
        public Settings {
            if (promptTags < 0) {
                throw new BadRequestException("prompt tags must be 0 (the whole caption) or more, got " + promptTags);
            }
            if (seedsPerCaption < 1) {
                throw new BadRequestException("seeds per caption must be 1 or more, got " + seedsPerCaption);
            }
        }

        public Settings(int steps, double cfgScale, String sampler, String scheduler, long seed, int limit,
                        int promptTags) {
            this(steps, cfgScale, sampler, scheduler, seed, limit, promptTags, 1);
        }

        public Settings(int steps, double cfgScale, String sampler, String scheduler, long seed, int limit) {
            this(steps, cfgScale, sampler, scheduler, seed, limit, 0);
        }

        /**
         * The request for the {@code draw}-th image of the caption at {@code index} of {@code captions}: seed +
         * index for the first draw (the seeds of a one-seed eval), then further blocks of {@code captions} seeds.
         */
        public GenerationRequest request(String caption, int size, int index, int draw, int captions) {
            return new GenerationRequest(prompt(caption), "", size, size, steps, cfgScale, sampler, scheduler, 0,
                    seed + (long) draw * captions + index, 1, 0);
        }

        /** The prompt made of a held-out caption. */
        public String prompt(String caption) {
            if (promptTags == 0) {
                return caption;
            }
            String[] tags = caption.split(",");
            return String.join(",", java.util.Arrays.copyOf(tags, Math.min(promptTags, tags.length))).strip();
        }
    }

    /** Per-category counts of generated images (held-out prompts x seeds per caption) and of those judged to be in it. */
    public record CategoryCount(int prompts, int correct) {}

    /** The figures; {@code images} counts held-out captions, each with the settings' seeds per caption. */
    public record Report(
            int images,
            double accuracy,
            double majorityRate,
            String majorityCategory,
            double classifierAccuracyOnReal,
            double classifierAccuracyOnDecoded,
            double frechetDistance,
            double frechetDistanceStandardError,
            double frechetDistanceRealTrain,
            double autoencoderPsnr,
            Map<String, CategoryCount> perCategory) {}

    /**
     * The result: the report, the first generated image of each caption (in held-out order) for a contact sheet,
     * and the judge's features of the generated and the real held-out images ([captions * seeds per caption,
     * {@link CategoryClassifier#FEATURES}], a caption's images in consecutive rows, and [captions, FEATURES]) for
     * comparing two models' distances on the same resamples.
     */
    public record Result(Report report, List<RgbImage> images, float[] generatedFeatures, float[] realFeatures) {

        /** The share of paired bootstrap resamples in which this model is closer to the real images than {@code other}'s. */
        public double shareCloserThan(Result other) {
            int n = report.images();
            if (other.report.images() != n || other.generatedFeatures.length != generatedFeatures.length) {
                throw new IllegalArgumentException("the two evaluations cover " + n + " and " + other.report.images()
                        + " captions, with " + generatedFeatures.length + " and " + other.generatedFeatures.length
                        + " generated features");
            }
            try (PointerScope scope = new PointerScope()) {
                return FrechetBootstrap.shareFirstCloser(matrix(generatedFeatures), matrix(other.generatedFeatures),
                        matrix(realFeatures), BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED);
            }
        }

        private static Tensor matrix(float[] rows) {
            return dev.ldm4j.nn.Tensors.fromFloats(rows, rows.length / CategoryClassifier.FEATURES,
                    CategoryClassifier.FEATURES);
        }
    }

    /** Resamples of the Fréchet distance's bootstrap; enough for a standard error to about 5%. */
    public static final int BOOTSTRAP_RESAMPLES = 200;
    /** One seed for every model, so that two models are resampled alike. */
    static final long BOOTSTRAP_SEED = 20221;

    private EmojiEval() {}

    /**
     * Runs the evaluation.
     *
     * @param progress called with the number of images generated so far (captions x seeds per caption in all)
     */
    public static Result run(LatentDiffusionModel sd, CategoryClassifier classifier, Split split, Settings s,
            IntConsumer progress) {
        ClassifierTrainer.Labelled held = ClassifierTrainer.Labelled.of(split.heldOut());
        int n = s.limit() > 0 ? Math.min(s.limit(), held.size()) : held.size();
        if (n < 2) {
            throw new BadRequestException("the held-out split of " + split.heldOut().folder() + " has " + n
                    + " images with a category; the evaluation needs at least 2");
        }
        int size = split.heldOut().imageSize();
        List<RgbImage> images = new ArrayList<>();
        // per category (by ordinal): held-out prompts, and generated images judged to be in it
        int[] prompts = new int[EmojiCategory.values().length];
        int[] judgedRight = new int[prompts.length];
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            int draws = s.seedsPerCaption();
            float[] feats = new float[n * draws * CategoryClassifier.FEATURES];
            Generator txt2img = new Generator(sd);
            for (int i = 0; i < n; i++) {
                String caption = held.data().caption(held.examples().get(i));
                EmojiCategory want = held.categories().get(i);
                for (int d = 0; d < draws; d++) {
                    try (PointerScope step = new PointerScope();
                            GenerationResult r = txt2img.generate(s.request(caption, size, i, d, n), StepListener.NONE)) {
                        Tensor x = CategoryClassifier.inputOf(r.images());
                        Tensor f = classifier.features(x);
                        prompts[want.ordinal()]++;
                        if (classifier.categoriesOf(f)[0] == want) {
                            judgedRight[want.ordinal()]++;
                        }
                        if (d == 0) {
                            images.add(ImageTensors.toRgb8(r.images()).get(0));
                        }
                        System.arraycopy(dev.ldm4j.nn.Tensors.toFloats(f.contiguous()), 0, feats,
                                (i * draws + d) * CategoryClassifier.FEATURES, CategoryClassifier.FEATURES);
                    }
                    progress.accept(i * draws + d + 1);
                }
            }
            Tensor genFeatures = dev.ldm4j.nn.Tensors.fromFloats(feats, n * draws, CategoryClassifier.FEATURES);
            List<EmojiCategory> wanted = held.categories().subList(0, n);
            Tensor real = held.images(java.util.stream.IntStream.range(0, n).toArray(), -1);
            Tensor realFeatures = classifier.features(real);
            int realRight = agreeing(classifier.categoriesOf(realFeatures), wanted);
            Tensor trainFeatures = classifier.features(trainSample(split, wanted));
            double fd = FrechetDistance.between(genFeatures, realFeatures);
            double fdRef = FrechetDistance.between(trainFeatures, realFeatures);
            double fdSe = FrechetBootstrap.standardError(genFeatures, realFeatures, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED);
            int top = 0;
            int correct = 0;
            Map<String, CategoryCount> per = new LinkedHashMap<>();
            for (EmojiCategory c : EmojiCategory.values()) {
                int k = c.ordinal();
                top = prompts[k] > prompts[top] ? k : top;
                correct += judgedRight[k];
                if (prompts[k] > 0) {
                    per.put(c.label(), new CategoryCount(prompts[k], judgedRight[k]));
                }
            }
            Tensor decoded = roundTrip(sd, real);
            int decodedRight = agreeing(classifier.predict(decoded), wanted);
            double psnr = java.util.Arrays.stream(ImageTensors.psnr(real, decoded)).average().orElse(Double.NaN);
            Report report = new Report(n, correct / (double) (n * draws), prompts[top] / (double) (n * draws),
                    EmojiCategory.values()[top].label(), realRight / (double) n, decodedRight / (double) n, fd, fdSe,
                    fdRef, psnr, per);
            return new Result(report, images, feats,
                    dev.ldm4j.nn.Tensors.toFloats(realFeatures.to(ScalarType.Float).contiguous()));
        }
    }

    /**
     * One training image per held-out image, of the same category (the categories' training images taken in
     * turn), so that the reference distance compares sets of the same category mix as the generated one:
     * generated images follow the held-out captions, whose mix is not the training split's.
     */
    private static Tensor trainSample(Split split, List<EmojiCategory> categories) {
        ClassifierTrainer.Labelled train = ClassifierTrainer.Labelled.of(split.train());
        Map<EmojiCategory, List<Integer>> byCategory = new java.util.EnumMap<>(EmojiCategory.class);
        for (int k = 0; k < train.size(); k++) {
            byCategory.computeIfAbsent(train.categories().get(k), c -> new ArrayList<>()).add(k);
        }
        Map<EmojiCategory, Integer> used = new java.util.EnumMap<>(EmojiCategory.class);
        int[] idx = new int[categories.size()];
        for (int i = 0; i < idx.length; i++) {
            EmojiCategory c = categories.get(i);
            List<Integer> pool = byCategory.get(c);
            if (pool == null) {
                // no training image of this category: any training image stands in
                idx[i] = (int) ((long) i * train.size() / idx.length);
                continue;
            }
            int turn = used.merge(c, 1, Integer::sum) - 1;
            // spread over the category (its images are in name order, variants of one emoji side by side)
            idx[i] = pool.get((int) ((long) turn * 7919 % pool.size()));
        }
        return train.images(idx, -1);
    }

    /** How many of {@code judged} are the category {@code wanted} at the same index. */
    private static int agreeing(EmojiCategory[] judged, List<EmojiCategory> wanted) {
        int right = 0;
        for (int i = 0; i < judged.length; i++) {
            right += judged[i] == wanted.get(i) ? 1 : 0;
        }
        return right;
    }

    /**
     * The autoencoder's reconstructions (posterior mean, decoded) of {@code real}, in batches of 32: what the
     * PSNR compares, and what the judge is also tried on, since generated images come out of the same decoder.
     */
    private static Tensor roundTrip(LatentDiffusionModel sd, Tensor real) {
        List<Tensor> parts = new ArrayList<>();
        long n = real.size(0);
        for (long from = 0; from < n; from += 32) {
            Tensor x = real.narrow(0, from, Math.min(32, n - from));
            Tensor z = sd.encodeImage(x).mean();
            parts.add(sd.vae().decode(z.to(ScalarType.Float)).to(ScalarType.Float));
        }
        return org.bytedeco.pytorch.global.torch.cat(new org.bytedeco.pytorch.TensorVector(
                parts.toArray(Tensor[]::new)), 0);
    }
}
