package dev.ldm4j.eval;

import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.Conv2d;
import dev.ldm4j.nn.GroupNorm;
import dev.ldm4j.nn.Linear;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.ParameterSource;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A small CNN (0.4M parameters) that sorts 64x64 emoji into {@link EmojiCategory categories}: the judge
 * of {@code ldm4j eval}. Five 3x3 convolutions (32, 64, 128, 128, 128 channels; the last four with stride 2),
 * each followed by GroupNorm and SiLU, a global average pool giving a 128-wide feature vector (what the
 * Fréchet distance compares) and a linear head. Input: [B, 3, 64, 64] in [-1, 1], as datasets give images.
 */
public final class CategoryClassifier {
    public static final int SIZE = 64;
    public static final int FEATURES = 128;
    static final long[] WIDTHS = {32, 64, 128, 128, 128};
    private static final int GROUPS = 8;
    private static final String CLASSES_KEY = "classes";

    private final Conv2d[] convs = new Conv2d[WIDTHS.length];
    private final GroupNorm[] norms = new GroupNorm[WIDTHS.length];
    private final Linear head;
    private final Map<String, Tensor> parameters;

    /** Builds the network from {@code source}: random for training, a file for evaluation. */
    public CategoryClassifier(ParameterSource source) {
        Weights w = Weights.of(source);
        long in = 3;
        for (int i = 0; i < WIDTHS.length; i++) {
            Weights block = w.sub("blocks").sub(i);
            convs[i] = new Conv2d(block.sub("conv"), in, WIDTHS[i], 3, i == 0 ? 1 : 2, 1, true);
            norms[i] = new GroupNorm(block.sub("norm"), GROUPS, WIDTHS[i], 1e-5);
            in = WIDTHS[i];
        }
        head = new Linear(w.sub("head"), FEATURES, EmojiCategory.values().length);
        parameters = new LinkedHashMap<>(source.taken());
    }

    /**
     * Loads a classifier written by {@link #save}.
     *
     * @throws ModelFileException when the file is missing, not a classifier, or for other categories
     */
    public static CategoryClassifier load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ModelFileException(file + ": no such classifier file (make one with 'ldm4j train-classifier')");
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            String classes = f.metadata().get(CLASSES_KEY);
            if (classes == null || !classes.equals(classNames())) {
                throw new ModelFileException(file + ": not an emoji category classifier of this version (its "
                        + "classes are " + (classes == null ? "not named" : "'" + classes + "'") + ", expected '"
                        + classNames() + "')");
            }
            return new CategoryClassifier(new CheckpointSource(f, ScalarType.Float));
        }
    }

    /** Writes the weights (float32) with the class names in the metadata; atomic. */
    public void save(Path file) {
        Tensors.write(file, parameters, Map.of(CLASSES_KEY, classNames(),
                "format", "ldm4j emoji category classifier"));
    }

    /** The trainable tensors by key. */
    public Map<String, Tensor> parameters() {
        return parameters;
    }

    /** Images as the pipeline gives them, [B, 3, 64, 64] in [0, 1], in the classifier's range [-1, 1]. */
    public static Tensor inputOf(Tensor generated) {
        return generated.mul(Ops.s(2)).sub(Ops.s(1));
    }

    /** Pooled features [B, 128] of images [B, 3, 64, 64] in [-1, 1]. */
    public Tensor features(Tensor images) {
        long[] s = Tensors.shape(images);
        if (s.length != 4 || s[1] != 3 || s[2] != SIZE || s[3] != SIZE) {
            throw new IllegalArgumentException("the category classifier takes [B, 3, 64, 64] images, got "
                    + Tensors.shapeString(images));
        }
        Tensor x = images;
        for (int i = 0; i < convs.length; i++) {
            x = Ops.siluOfFresh(norms[i].forward(convs[i].forward(x)));
        }
        return x.mean(new long[] {2, 3}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
    }

    /** Class scores [B, 9] from features. */
    public Tensor logits(Tensor features) {
        return head.forward(features);
    }

    /** The most likely category of each image. */
    public EmojiCategory[] predict(Tensor images) {
        return categoriesOf(features(images));
    }

    /** The most likely category for each row of {@link #features} [B, 128]. */
    public EmojiCategory[] categoriesOf(Tensor features) {
        long[] idx = Tensors.toLongs(torch.argmax(logits(features), new org.bytedeco.pytorch.LongOptional(1),
                false).contiguous());
        return Arrays.stream(idx).mapToObj(i -> EmojiCategory.values()[(int) i]).toArray(EmojiCategory[]::new);
    }

    private static String classNames() {
        return Arrays.stream(EmojiCategory.values()).map(EmojiCategory::label).collect(Collectors.joining("|"));
    }
}
