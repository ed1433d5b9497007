package dev.ldm4j.cli;

import dev.ldm4j.data.Dataset;
import dev.ldm4j.data.DatasetException;
import dev.ldm4j.data.DatasetOptions;
import dev.ldm4j.data.Split;
import dev.ldm4j.eval.CategoryClassifier;
import dev.ldm4j.eval.ClassifierTrainer;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.model.DefaultModel;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.Precision;
import dev.ldm4j.nn.Torch;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code ldm4j train-classifier}: trains the emoji category classifier that {@code ldm4j eval} judges generated
 * images with, on the training split of the emoji dataset, and reports its accuracy on the held-out split.
 */
@Command(name = "train-classifier", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train the emoji category classifier used by 'ldm4j eval' (64x64 images whose captions "
                + "name an emoji category).")
final class TrainClassifierCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", required = true, paramLabel = "DIR",
            description = "The emoji dataset (scripts/fetch-emoji-dataset.sh); trains on its training split.")
    Path data;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE",
            description = "Where to write the classifier (.safetensors).")
    Path output;

    @Option(names = "--epochs", defaultValue = "30", description = "Default ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = {"-b", "--batch-size"}, defaultValue = "64", description = "Default ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--lr", defaultValue = "2e-3", description = "Peak learning rate, cosine decay (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = {"-s", "--seed"}, defaultValue = "0", description = "Default ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--balanced",
            description = "Weigh each category's examples by sqrt(largest category / its size), so that the small "
                    + "categories count.")
    boolean balanced;

    @Option(names = "--decoded-share", defaultValue = "0", paramLabel = "P",
            description = "Share of examples replaced by their round trip through --autoencoder's encoder and "
                    + "decoder: the look of generated images (default 0).")
    double decodedShare;

    @Option(names = "--autoencoder", paramLabel = "FILE",
            description = "SD checkpoint whose autoencoder makes the decoded examples and the held-out decoded "
                    + "accuracy; default: ldm4j's own model (" + DefaultModel.MODEL + ").")
    Path autoencoder;

    @Mixin
    Threads threads;

    @Override
    public void run() {
        dev.ldm4j.io.AtomicFiles.checkWritable(output);
        Torch.load();
        threads.apply();
        Split split;
        try {
            split = Dataset.open(data, DatasetOptions.of(CategoryClassifier.SIZE).withFlip(true).withSeed(seed)).split();
        } catch (DatasetException e) {
            throw new BadInputException(e.getMessage());
        }
        PrintWriter err = spec.commandLine().getErr();
        ClassifierTrainer.Options options;
        try {
            options = new ClassifierTrainer.Options(epochs, batchSize, lr, 1e-4, seed, balanced, decodedShare);
        } catch (BadRequestException e) {
            throw new BadInputException(e.getMessage());
        }
        Path ae = autoencoder != null ? autoencoder : DefaultModel.model();
        if (!Files.isRegularFile(ae)) {
            throw new BadInputException("autoencoder checkpoint " + ae + " does not exist");
        }
        try (LatentDiffusionModel sd = ModelLoader.load(ModelLoader.Options.of(ae)
                .withPrecision(Precision.FP32, Precision.FP32))) {
            UnaryOperator<Tensor> roundTrip = x -> sd.vae().decode(sd.encodeImage(x).mean());
            CategoryClassifier c = ClassifierTrainer.train(split.train(), options, roundTrip, err::println);
            double train = ClassifierTrainer.accuracy(c, split.train());
            Map<String, int[]> drawn = ClassifierTrainer.accuracyByCategory(c, split.heldOut(), x -> x);
            Map<String, int[]> decoded = ClassifierTrainer.accuracyByCategory(c, split.heldOut(), roundTrip);
            c.save(output);
            err.printf(Locale.ROOT, "train-classifier: accuracy %.3f on the training split; held out: %s drawn, %s "
                    + "decoded by %s; wrote %s%n", train, summary(drawn), summary(decoded), ae.getFileName(), output);
            drawn.forEach((k, v) -> err.printf(Locale.ROOT, "  %-18s %3d/%3d drawn, %3d/%3d decoded%n", k, v[1], v[0],
                    decoded.get(k)[1], decoded.get(k)[0]));
        }
    }

    /** "accuracy 0.877, mean over categories 0.812". */
    private static String summary(Map<String, int[]> byCategory) {
        int n = 0;
        int right = 0;
        double recall = 0;
        for (int[] v : byCategory.values()) {
            n += v[0];
            right += v[1];
            recall += v[1] / (double) v[0];
        }
        return String.format(Locale.ROOT, "accuracy %.3f (mean over categories %.3f)", right / (double) n,
                recall / byCategory.size());
    }
}
