package dev.ldm4j.data;

import dev.ldm4j.data.DatasetScan.Entry;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.nn.Tensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Captioned images from a folder, prepared for training: each image is read as 8-bit RGB (transparency
 * composited on white, see {@link Images#readRgb}), scaled so its shorter side is N and centre-cropped to
 * N x N ({@link SquareResize}), and handed out as float32 [3, N, N] in [-1, 1].
 *
 * <p>A folder holds its captions in one of two ways:
 * <ul>
 *   <li>a {@code metadata.jsonl} (Hugging Face imagefolder): one JSON object per line with {@code file_name}
 *       (relative to the folder, may name a subfolder) and {@code text}; when it exists it alone defines the
 *       dataset;</li>
 *   <li>otherwise (kohya sd-scripts, AUTOMATIC1111) every image directly in the folder (subfolders are not
 *       searched) with the extension png, jpg, jpeg, webp or bmp, any case, captioned by the UTF-8
 *       {@code .txt} of the same name ({@code cat.png} → {@code cat.txt}).</li>
 * </ul>
 * Captions are trimmed and each run of whitespace, line breaks included, becomes one space. Names starting
 * with a dot are ignored. Decoding is the JDK's ImageIO: PNG, JPEG and BMP (and, when named in a
 * {@code metadata.jsonl}, GIF and TIFF); WebP only with an ImageIO WebP plugin on the classpath (the JDK has
 * none; without one WebP files are skipped with a warning saying so).
 *
 * <p>Every image is decoded once when the dataset is opened, so that a broken file is found then, skipped
 * with a warning naming it and listed in {@link #skipped()}, instead of stopping a training run hours later.
 * With {@link DatasetOptions#cache()} the prepared pixels are kept (3 N² bytes an image); otherwise each
 * access decodes the file again (a file broken after opening then throws
 * {@link dev.ldm4j.io.ImageFileException}).
 *
 * <p>Examples are ordered by name, so index i is the same example on every machine. Optional horizontal
 * flips depend only on the seed, the epoch and the example's name. A dataset is immutable and may be read
 * from several threads.
 */
public final class Dataset {
    private static final Logger LOG = LoggerFactory.getLogger(Dataset.class);

    private final Path folder;
    private final DatasetOptions options;
    private final List<Entry> entries;
    /** Prepared N x N RGB pixels per entry, or null when not caching. */
    private final byte[][] cache;
    private final List<Skipped> skipped;
    /** This view's examples, as indices into {@code entries}. */
    private final int[] view;

    private Dataset(Path folder, DatasetOptions options, List<Entry> entries, byte[][] cache,
            List<Skipped> skipped, int[] view) {
        this.folder = folder;
        this.options = options;
        this.entries = entries;
        this.cache = cache;
        this.skipped = skipped;
        this.view = view;
    }

    /**
     * Opens a dataset folder, decoding every image once.
     *
     * @throws DatasetException when the folder is missing, unreadable, or holds no usable example
     */
    public static Dataset open(Path folder, DatasetOptions options) {
        DatasetScan.Result scan = DatasetScan.scan(folder);
        List<Skipped> skipped = new ArrayList<>(scan.skipped());
        List<Entry> usable = new ArrayList<>();
        List<byte[]> pixels = new ArrayList<>();
        for (Entry e : scan.entries()) {
            try {
                byte[] px = prepare(e, options.size());
                usable.add(e);
                if (options.cache()) {
                    pixels.add(px);
                }
            } catch (RuntimeException ex) {
                String reason = withoutPath(ex.getMessage(), e.file());
                if (DatasetScan.extension(e.file()).equals("webp") && !DatasetScan.webpReadable()) {
                    reason += " (this Java has no WebP reader: add an ImageIO WebP plugin such as TwelveMonkeys "
                            + "imageio-webp, or convert the file to PNG)";
                }
                LOG.warn("dataset {}: skipping {}: {}", folder, e.name(), reason);
                skipped.add(new Skipped(e.name(), reason));
            }
        }
        if (usable.isEmpty()) {
            throw new DatasetException(emptyMessage(folder, skipped));
        }
        LOG.info("dataset {}: {} examples at {}x{}{}{}", folder, usable.size(), options.size(), options.size(),
                skipped.isEmpty() ? "" : ", " + skipped.size() + " skipped",
                options.cache() ? ", cached in memory" : "");
        int[] all = new int[usable.size()];
        Arrays.setAll(all, i -> i);
        return new Dataset(folder, options, List.copyOf(usable),
                options.cache() ? pixels.toArray(new byte[0][]) : null, List.copyOf(skipped), all);
    }

    public Path folder() {
        return folder;
    }

    public DatasetOptions options() {
        return options;
    }

    /** N, the side of the square images. */
    public int imageSize() {
        return options.size();
    }

    public int size() {
        return view.length;
    }

    /** Example i's file name relative to the folder, '/'-separated. */
    public String name(int i) {
        return entry(i).name();
    }

    public String caption(int i) {
        return entry(i).caption();
    }

    /** The files (or metadata lines) of the folder left out when it was opened, with the reasons. */
    public List<Skipped> skipped() {
        return skipped;
    }

    /** Example i without augmentation. */
    public Example get(int i) {
        return build(i, false);
    }

    /** Example i as it is seen in the given epoch: flipped when {@link #flipped(int, long)}. */
    public Example get(int i, long epoch) {
        return build(i, flipped(i, epoch));
    }

    /**
     * Whether example i is mirrored left-right in the given epoch: never without {@link DatasetOptions#flip()},
     * otherwise a fair coin decided by (seed, epoch, name), so it is the same in every view of the dataset.
     */
    public boolean flipped(int i, long epoch) {
        if (!options.flip()) {
            return false;
        }
        return SplitMix.mix(SplitMix.mix(options.seed(), epoch), entry(i).name().hashCode()) < 0;
    }

    /**
     * The name of example i's pixels as seen in the given epoch: its {@link #name}, with {@code #flipped}
     * when {@link #flipped(int, long)}, so that the same key always means the same pixels (the latent cache's
     * key, see {@link Batch#keys()}).
     */
    public String key(int i, long epoch) {
        return name(i) + (flipped(i, epoch) ? "#flipped" : "");
    }

    /**
     * The training and held-out parts: the names listed in the folder's {@value HeldOut#SPLIT_FILE} when it
     * has one, otherwise those {@link HeldOut#isHeldOut(String)} picks. Either part may be empty.
     */
    public Split split() {
        Path splitFile = folder.resolve(HeldOut.SPLIT_FILE);
        Predicate<String> held;
        String rule;
        if (Files.isRegularFile(splitFile)) {
            Set<String> names = HeldOut.readSplitFile(splitFile);
            held = names::contains;
            rule = splitFile.toString();
        } else {
            held = HeldOut::isHeldOut;
            rule = "the SHA-256 rule of HeldOut";
        }
        int[] train = Arrays.stream(view).filter(k -> !held.test(entries.get(k).name())).toArray();
        int[] test = Arrays.stream(view).filter(k -> held.test(entries.get(k).name())).toArray();
        LOG.info("dataset {}: {} training, {} held out (by {})", folder, train.length, test.length, rule);
        return new Split(withView(train), withView(test));
    }

    /**
     * This dataset with example i visited {@code repeats[i]} times per epoch (0 leaves it out): the copies are
     * further examples of the view, with the same name, caption and flips.
     */
    public Dataset repeated(int[] repeats) {
        if (repeats.length != view.length) {
            throw new IllegalArgumentException(repeats.length + " repeat counts for " + view.length + " examples");
        }
        int[] out = new int[Arrays.stream(repeats).map(r -> {
            if (r < 0) {
                throw new IllegalArgumentException("negative repeat count " + r);
            }
            return r;
        }).sum()];
        int k = 0;
        for (int i = 0; i < view.length; i++) {
            for (int c = 0; c < repeats[i]; c++) {
                out[k++] = view[i];
            }
        }
        if (out.length == 0) {
            throw new IllegalArgumentException("every repeat count is 0: no examples left");
        }
        return withView(out);
    }

    /** This dataset resampled by {@link TagBalance}, the groups and their repeats logged. */
    public Dataset balanced(TagBalance balance) {
        Dataset out = repeated(balance.repeats(this));
        LOG.info("dataset {}: balanced by tag to {} examples an epoch ({})", folder, out.size(),
                String.join(", ", balance.describe(this)));
        return out;
    }

    /**
     * Shuffled batches of this dataset; see {@link Batches}.
     *
     * @param dropLast leave out the last, smaller batch of each epoch
     * @param seed     the seed of the shuffling order
     */
    public Batches batches(int batchSize, boolean dropLast, long seed) {
        return new Batches(this, batchSize, dropLast, seed);
    }

    /** Writes example i as [3, N, N] floats in [-1, 1] into {@code dst} from {@code offset}. */
    void fill(int i, boolean flip, float[] dst, int offset) {
        int n = options.size();
        byte[] px = pixels(i);
        int plane = n * n;
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                int src = (y * n + (flip ? n - 1 - x : x)) * 3;
                int o = offset + y * n + x;
                for (int c = 0; c < 3; c++) {
                    // the reference scripts' 2 * (v / 255) - 1, in float32
                    dst[o + c * plane] = 2f * ((px[src + c] & 0xff) / 255f) - 1f;
                }
            }
        }
    }

    @Override
    public String toString() {
        return "Dataset[" + folder + ", " + size() + " examples, " + options.size() + "x" + options.size() + "]";
    }

    private Example build(int i, boolean flip) {
        int n = options.size();
        float[] v = new float[3 * n * n];
        fill(i, flip, v, 0);
        Entry e = entry(i);
        return new Example(e.name(), e.caption(), Tensors.fromFloats(v, 3, n, n));
    }

    private byte[] pixels(int i) {
        int k = index(i);
        return cache != null ? cache[k] : prepare(entries.get(k), options.size());
    }

    private Entry entry(int i) {
        return entries.get(index(i));
    }

    private int index(int i) {
        if (i < 0 || i >= view.length) {
            throw new IndexOutOfBoundsException("example " + i + " of a dataset of " + view.length);
        }
        return view[i];
    }

    private Dataset withView(int[] indices) {
        return new Dataset(folder, options, entries, cache, skipped, indices);
    }

    private static byte[] prepare(Entry e, int n) {
        RgbImage img = Images.readRgb(e.file());
        return SquareResize.apply(img, n).pixels();
    }

    private static String withoutPath(String message, Path file) {
        if (message == null) {
            return "cannot be read";
        }
        String prefix = file + ": ";
        return message.startsWith(prefix) ? message.substring(prefix.length()) : message;
    }

    private static String emptyMessage(Path folder, List<Skipped> skipped) {
        if (skipped.isEmpty()) {
            return "dataset folder " + folder + " has no examples: expected images (png, jpg, jpeg, webp, bmp) "
                    + "with same-name .txt captions, or a " + DatasetScan.METADATA + " with file_name and text";
        }
        String first = skipped.stream().limit(3).map(Skipped::toString).collect(Collectors.joining("; "));
        return "dataset folder " + folder + " has no usable examples: all " + skipped.size() + " were skipped ("
                + first + (skipped.size() > 3 ? "; ..." : "") + ")";
    }
}
