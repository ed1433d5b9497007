package dev.ldm4j.cli;

import dev.ldm4j.data.Dataset;
import dev.ldm4j.data.DatasetException;
import dev.ldm4j.data.DatasetOptions;
import dev.ldm4j.data.Split;
import dev.ldm4j.eval.CategoryClassifier;
import dev.ldm4j.eval.ClassifierTrainer;
import dev.ldm4j.nn.Torch;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
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

    @Option(names = {"-t", "--threads"}, defaultValue = "0", description = Threads.HELP)
    int threads;

    @Override
    public void run() {
        dev.ldm4j.io.AtomicFiles.checkWritable(output);
        Torch.load();
        Threads.apply(threads);
        Split split;
        try {
            split = Dataset.open(data, DatasetOptions.of(CategoryClassifier.SIZE).withFlip(true).withSeed(seed)).split();
        } catch (DatasetException e) {
            throw new BadInputException(e.getMessage());
        }
        PrintWriter err = spec.commandLine().getErr();
        CategoryClassifier c = ClassifierTrainer.train(split.train(),
                new ClassifierTrainer.Options(epochs, batchSize, lr, 1e-4, seed), err::println);
        double train = ClassifierTrainer.accuracy(c, split.train());
        double held = ClassifierTrainer.accuracy(c, split.heldOut());
        c.save(output);
        err.printf(Locale.ROOT, "train-classifier: accuracy %.3f on the training split, %.3f held out; wrote %s%n",
                train, held, output);
    }
}
