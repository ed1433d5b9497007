package dev.ldm4j.eval;

import dev.ldm4j.data.Dataset;
import dev.ldm4j.data.Split;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.pipeline.GenerationRequest;
import dev.ldm4j.pipeline.GenerationResult;
import dev.ldm4j.pipeline.Generator;
import dev.ldm4j.sampling.StepListener;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.function.IntConsumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Does the model draw what it is asked? For each emoji name (the caption's first tag, what a user types: "red
 * apple"), images are generated at several seeds and each is matched to the nearest image of the whole dataset
 * (training and held-out); it counts as top-1 when the nearest image's name is the one asked for, and top-5 when
 * the name is among the five nearest distinct names. Skin-tone variants share their base emoji's name.
 *
 * <p>Two distances, because each fails differently: pixels (L2 of the 64x64 RGB images, over white), which a
 * drawing of the right thing in another place or size misses; and the category classifier's 128 features, which
 * know shapes and colours but were trained to tell categories apart, not names. A name counts once per image.
 */
public final class NameRetrieval {
    /** How many names, seeds and steps. {@code names} 0 = every name of the split. */
    public record Settings(int seeds, int steps, double cfgScale, String sampler, String scheduler, long seed,
                           int trainNames, int heldOutNames) {}

    /**
     * Top-1 and top-5 rates in both spaces over {@code images} generated images of {@code names} names, and the
     * names none of whose images has the name as its nearest by pixels: what the model does not draw.
     */
    public record Scores(int names, int images, double pixelTop1, double pixelTop5, double featureTop1,
                         double featureTop5, List<Miss> missed) {
        public Scores {
            missed = List.copyOf(missed);
        }
    }

    /** A name none of whose images was nearest to one of its own, and the names its images were nearest to. */
    public record Miss(String name, List<String> drawnAs) {
        public Miss {
            drawnAs = List.copyOf(drawnAs);
        }
    }

    /** Over names of the training split, and over the held-out names. */
    public record Report(Scores train, Scores heldOut) {}

    private NameRetrieval() {}

    /** The name an example answers to: its caption's first tag. */
    static String nameOf(String caption) {
        int comma = caption.indexOf(',');
        return (comma < 0 ? caption : caption.substring(0, comma)).strip();
    }

    public static Report run(LatentDiffusionModel sd, CategoryClassifier classifier, Split split, Settings s,
                             IntConsumer progress) {
        if (s.seeds() < 1) {
            throw new BadRequestException("name retrieval needs at least one seed per name, got " + s.seeds());
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Gallery gallery = Gallery.of(List.of(split.train(), split.heldOut()), classifier);
            List<String> train = names(split.train(), s.trainNames());
            List<String> held = names(split.heldOut(), s.heldOutNames());
            int[] done = {0};
            IntConsumer counted = k -> progress.accept(done[0] += k);
            Scores a = score(sd, classifier, gallery, train, s, split.train().imageSize(), counted);
            Scores b = score(sd, classifier, gallery, held, s, split.heldOut().imageSize(), counted);
            return new Report(a, b);
        }
    }

    /** The distinct names of a split in their file order; {@code limit} > 0 takes that many, spread evenly. */
    static List<String> names(Dataset d, int limit) {
        LinkedHashSet<String> all = new LinkedHashSet<>();
        for (int i = 0; i < d.size(); i++) {
            all.add(nameOf(d.caption(i)));
        }
        List<String> list = new ArrayList<>(all);
        if (limit <= 0 || limit >= list.size()) {
            return list;
        }
        List<String> out = new ArrayList<>(limit);
        for (int k = 0; k < limit; k++) {
            out.add(list.get((int) ((long) k * list.size() / limit)));
        }
        return out;
    }

    private static Scores score(LatentDiffusionModel sd, CategoryClassifier classifier, Gallery gallery,
                                List<String> names, Settings s, int size, IntConsumer progress) {
        if (names.isEmpty()) {
            return new Scores(0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, List.of());
        }
        Generator txt2img = new Generator(sd);
        int[] hits = new int[4];
        int images = 0;
        List<Miss> missed = new ArrayList<>();
        for (int n = 0; n < names.size(); n++) {
            String name = names.get(n);
            // one request per name: its batch of seeds draws one x_T each from the request's seed
            GenerationRequest r = new GenerationRequest(name, "", size, size, s.steps(), s.cfgScale(), s.sampler(),
                    s.scheduler(), 0, s.seed() + n, s.seeds(), 0);
            try (PointerScope step = new PointerScope();
                 GenerationResult result = txt2img.generate(r, StepListener.NONE)) {
                Tensor x = CategoryClassifier.inputOf(result.images());
                List<List<String>> byPixels = nearestNames(gallery.names, gallery.pixels, Gallery.flat(x), 5);
                List<List<String>> byFeatures = nearestNames(gallery.names, gallery.features,
                        classifier.features(x), 5);
                for (int i = 0; i < byPixels.size(); i++) {
                    hits[0] += byPixels.get(i).get(0).equals(name) ? 1 : 0;
                    hits[1] += byPixels.get(i).contains(name) ? 1 : 0;
                    hits[2] += byFeatures.get(i).get(0).equals(name) ? 1 : 0;
                    hits[3] += byFeatures.get(i).contains(name) ? 1 : 0;
                    images++;
                }
                Miss miss = miss(name, byPixels);
                if (miss != null) {
                    missed.add(miss);
                }
            }
            progress.accept(s.seeds());
        }
        return new Scores(names.size(), images, hits[0] / (double) images, hits[1] / (double) images,
                hits[2] / (double) images, hits[3] / (double) images, missed);
    }

    /**
     * The miss of {@code name}, whose images' nearest names by pixels are {@code nearest} (one list per image,
     * nearest first), or null when at least one image's nearest is the name itself.
     */
    static Miss miss(String name, List<List<String>> nearest) {
        List<String> drawnAs = new ArrayList<>();
        for (List<String> image : nearest) {
            if (image.get(0).equals(name)) {
                return null;
            }
            drawnAs.add(image.get(0));
        }
        return new Miss(name, drawnAs);
    }

    /** Every image of the dataset as pixels and as classifier features, with its name. */
    private static final class Gallery {
        final List<String> names = new ArrayList<>();
        final Tensor pixels;
        final Tensor features;

        private Gallery(List<String> names, Tensor pixels, Tensor features) {
            this.names.addAll(names);
            this.pixels = pixels;
            this.features = features;
        }

        static Gallery of(List<Dataset> parts, CategoryClassifier classifier) {
            List<String> names = new ArrayList<>();
            List<Tensor> px = new ArrayList<>();
            List<Tensor> feats = new ArrayList<>();
            for (Dataset d : parts) {
                for (int from = 0; from < d.size(); from += 64) {
                    int to = Math.min(d.size(), from + 64);
                    Tensor[] batch = new Tensor[to - from];
                    for (int i = from; i < to; i++) {
                        names.add(nameOf(d.caption(i)));
                        batch[i - from] = d.get(i).image();
                    }
                    Tensor x = torch.stack(new TensorVector(batch), 0);
                    px.add(flat(x));
                    feats.add(classifier.features(x));
                }
            }
            return new Gallery(names, Ops.cat(0, px.toArray(Tensor[]::new)),
                    Ops.cat(0, feats.toArray(Tensor[]::new)));
        }

        static Tensor flat(Tensor images) {
            return images.reshape(images.size(0), -1).contiguous();
        }
    }

    /**
     * For each query row, the {@code k} nearest distinct names by L2 distance to {@code gallery}'s rows, row i
     * being named {@code names.get(i)}.
     */
    static List<List<String>> nearestNames(List<String> names, Tensor gallery, Tensor queries, int k) {
        Tensor d = torch.cdist(queries.to(ScalarType.Float), gallery.to(ScalarType.Float));
        int n = (int) d.size(1);
        List<List<String>> out = new ArrayList<>();
        for (long q = 0; q < d.size(0); q++) {
            float[] row = Tensors.toFloats(d.select(0, q));
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            java.util.Arrays.sort(order, (a, b) -> Float.compare(row[a], row[b]));
            LinkedHashSet<String> seen = new LinkedHashSet<>();
            for (int i = 0; i < n && seen.size() < k; i++) {
                seen.add(names.get(order[i]));
            }
            out.add(new ArrayList<>(seen));
        }
        return out;
    }
}
