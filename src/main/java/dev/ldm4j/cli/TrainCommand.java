package dev.ldm4j.cli;

import dev.ldm4j.data.Dataset;
import dev.ldm4j.data.DatasetOptions;
import dev.ldm4j.data.NamePrompts;
import dev.ldm4j.data.TagBalance;
import dev.ldm4j.data.TagDropout;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.DType;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.model.Architecture;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.nn.Precision;
import dev.ldm4j.nn.Torch;
import dev.ldm4j.sampling.Prediction;
import dev.ldm4j.train.Autocast;
import dev.ldm4j.train.DatasetTrainingData;
import dev.ldm4j.train.DiffusionTrainer;
import dev.ldm4j.train.LatentDiffusion;
import dev.ldm4j.train.SampleGrids;
import dev.ldm4j.train.TrainConfig;
import dev.ldm4j.train.TrainListener;
import dev.ldm4j.train.TrainingData;
import dev.ldm4j.train.TrainingRun;
import dev.ldm4j.train.TrainingState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.function.UnaryOperator;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code ldm4j train}: latent diffusion training on a folder of captioned images, from scratch (an LDM YAML
 * config; UNet and a small text encoder trained together over a frozen autoencoder) or fine-tuning a
 * single-file checkpoint ({@code --init-from}). The run folder receives the exported model (EMA weights) with
 * its YAML, the training state for {@code --resume}, and {@code losses.csv}.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a latent diffusion model from scratch (--config) or fine-tune a checkpoint (--init-from).")
final class TrainCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", required = true, paramLabel = "DIR",
            description = "Training images with same-name .txt captions, or a metadata.jsonl (file_name, text); "
                    + "the held-out split (split.txt or the name-hash rule) is left out.")
    Path data;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR",
            description = "Run folder: model.safetensors + model.yaml (EMA weights), state.safetensors, losses.csv.")
    Path output;

    @Option(names = "--config", paramLabel = "FILE",
            description = "LDM YAML config (v1-inference.yaml structure; text_model_config sizes the text encoder). "
                    + "Required from scratch; with --init-from, the checkpoint's NAME.yaml beside it, else detected.")
    Path config;

    @Option(names = "--init-from", paramLabel = "FILE", description = "Fine-tune this single-file SD checkpoint.")
    Path initFrom;

    @Option(names = "--vae", paramLabel = "FILE",
            description = "From scratch: the trained autoencoder (first_stage_model.* or bare encoder./decoder. keys).")
    Path vae;

    @Option(names = "--resume", description = "Continue the run in the output folder from its state.safetensors.")
    boolean resume;

    @Option(paramLabel = "N", names = "--steps", defaultValue = "1000", description = "Total optimisation steps (default ${DEFAULT-VALUE}).")
    long steps;

    @Option(names = "--sample-prompts", paramLabel = "P1|P2|...", defaultValue = "",
            description = "At every checkpoint, write RUN/samples/step_N.png: a grid of these prompts (|-separated), "
                    + "fixed seed, made by the generate pipeline.")
    String samplePrompts;

    @Option(names = "--flip", description = "Random horizontal flips (seeded, per epoch).")
    boolean flip;

    @Option(names = "--balance-tags", paramLabel = "T1|T2|...",
            description = "Resample by caption tag (|-separated; a caption's group is its last comma-separated part "
                    + "that is one of them): each example of a group of n is seen round(sqrt(n_max / n)) times an "
                    + "epoch, at most 8. Give it again with --resume.")
    String balanceTags;

    @Option(names = "--tag-dropout", paramLabel = "P", defaultValue = "0",
            description = "Leave out each comma-separated caption tag after the first --keep-tags with probability P, "
                    + "so that short prompts are trained too (kohya's caption_tag_dropout_rate; default ${DEFAULT-VALUE}). "
                    + "Give it again with --resume.")
    double tagDropout;

    @Option(names = "--keep-tags", paramLabel = "N", defaultValue = "1",
            description = "Leading caption tags --tag-dropout never drops (default ${DEFAULT-VALUE}).")
    int keepTags;

    @Option(names = "--name-prompts", paramLabel = "P", defaultValue = "0",
            description = "Replace a share P of the captions by one of their name tags alone (the leading tags before "
                    + "the first tag that over 1%% of the captions carry: 'car' of 'automobile, car, red car, travel & "
                    + "places, ...'), the prompts users type (default ${DEFAULT-VALUE}). Give it again with --resume.")
    double namePrompts;

    @Option(names = "--resolution", defaultValue = "0", paramLabel = "N",
            description = "Training image size (images are resized and center-cropped to it); 0 = the shorter side "
                    + "of the first image. Multiple of the VAE factor.")
    int resolution;

    @Option(paramLabel = "N", names = {"-b", "--batch-size"}, defaultValue = "16", description = "Default ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(paramLabel = "LR", names = "--lr", defaultValue = "1e-4", description = "Peak learning rate (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(paramLabel = "N", names = "--warmup-steps", defaultValue = "100", description = "Linear warmup (default ${DEFAULT-VALUE}).")
    int warmupSteps;

    @Option(paramLabel = "N", names = "--lr-cooldown", defaultValue = "0",
            description = "Let the learning rate fall linearly over the last N steps of --steps, to lr / N "
                    + "(default: constant after the warmup).")
    long cooldown;

    @Option(paramLabel = "B1", names = "--adam-beta1", defaultValue = "0.9", description = "Default ${DEFAULT-VALUE}.")
    double beta1;

    @Option(paramLabel = "B2", names = "--adam-beta2", defaultValue = "0.999", description = "Default ${DEFAULT-VALUE}.")
    double beta2;

    @Option(paramLabel = "EPS", names = "--adam-eps", defaultValue = "1e-8", description = "Default ${DEFAULT-VALUE}.")
    double adamEps;

    @Option(paramLabel = "WD", names = "--weight-decay", defaultValue = "0.01", description = "AdamW weight decay (default ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(paramLabel = "NORM", names = "--max-grad-norm", defaultValue = "1.0",
            description = "Clip the global gradient norm; 0 = off (default ${DEFAULT-VALUE}).")
    double maxGradNorm;

    @Option(paramLabel = "D", names = "--ema-decay", defaultValue = "0.9999",
            description = "EMA of the weights (what is exported); 0 = off (default ${DEFAULT-VALUE}).")
    double emaDecay;

    @Option(names = "--no-ema-warmup", description = "Use the EMA decay from the first step (default: LitEma's "
            + "min(decay, (1 + n) / (10 + n))).")
    boolean noEmaWarmup;

    @Option(paramLabel = "P", names = "--caption-dropout", defaultValue = "0.1",
            description = "Share of captions replaced by \"\" for classifier-free guidance (default ${DEFAULT-VALUE}).")
    double captionDropout;

    @Option(paramLabel = "GAMMA", names = "--min-snr-gamma", defaultValue = "0", description = "Min-SNR loss weighting; 0 = off (default).")
    double minSnrGamma;

    @Option(names = "--prediction", paramLabel = "eps|v",
            description = "What the UNet learns to predict (default: the config's parameterization).")
    String prediction;

    @Option(paramLabel = "SEED", names = {"-s", "--seed"}, defaultValue = "42", description = "Seed of weights, data order and noise (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(paramLabel = "fp32|bf16", names = "--precision", defaultValue = "fp32",
            description = "fp32, or bf16 autocast for the forward/backward with float32 master weights (default ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--cache-latents", description = "Encode each image once and keep its autoencoder posterior.")
    boolean cacheLatents;

    @Option(names = "--scale-by-std", description = "From scratch: set scale_factor to 1/std of the first batch's latents.")
    boolean scaleByStd;

    @Option(names = "--train-text-encoder",
            description = "With --init-from: train the text encoder too (it is frozen by default; from scratch it always trains).")
    boolean trainTextEncoder;

    @Option(paramLabel = "N", names = "--save-every", defaultValue = "500",
            description = "Steps between checkpoints; 0 = only at the end (default ${DEFAULT-VALUE}).")
    int saveEvery;

    @Option(paramLabel = "fp32|fp16|bf16", names = "--save-precision", defaultValue = "fp32",
            description = "Storage type of the exported model: fp32, fp16, bf16 (default ${DEFAULT-VALUE}).")
    String savePrecision;

    @Option(paramLabel = "N", names = "--log-every", defaultValue = "10",
            description = "Off a terminal: one progress line per this many steps (default ${DEFAULT-VALUE}).")
    int logEvery;

    @Mixin
    Threads threads;

    @Override
    public void run() {
        DType saveDType = Precision.parse(savePrecision, "checkpoint", Precision.values()).dtype();
        Precision precisionValue = Autocast.parse(precision);
        if (steps <= 0 || saveEvery < 0 || resolution < 0) {
            throw new BadInputException("--steps must be positive, --save-every and --resolution >= 0");
        }
        if (cooldown < 0 || cooldown > steps) {
            throw new BadInputException("--lr-cooldown must be between 0 and --steps (" + steps + "), got " + cooldown);
        }
        Path statePath = output.resolve(TrainingRun.STATE);
        if (resume) {
            for (String flag : List.of("--config", "--init-from", "--vae", "--prediction", "--scale-by-std",
                    "--train-text-encoder", "--seed")) {
                if (given(flag)) {
                    throw new BadInputException(flag + " cannot be given with --resume: the run's model and seed "
                            + "come from " + statePath);
                }
            }
            if (!Files.isRegularFile(statePath)) {
                throw new BadInputException("nothing to resume: " + statePath + " does not exist");
            }
        } else {
            if (Files.exists(statePath)) {
                throw new BadInputException(output + " already holds a training run (" + TrainingRun.STATE
                        + "): add --resume to continue it, or choose another --output");
            }
            if (initFrom == null && config == null) {
                throw new BadInputException("training from scratch needs --config (an LDM YAML); "
                        + "or fine-tune a checkpoint with --init-from");
            }
            if (initFrom != null && (vae != null || scaleByStd)) {
                throw new BadInputException((vae != null ? "--vae" : "--scale-by-std")
                        + " is for training from scratch; --init-from keeps the checkpoint's autoencoder");
            }
            if (initFrom == null && trainTextEncoder) {
                throw new BadInputException("--train-text-encoder is for --init-from (from scratch the text encoder always trains)");
            }
        }
        Torch.load();
        threads.apply();

        DiffusionTrainer trainer;
        if (resume) {
            trainer = TrainingState.resume(statePath, changes(precisionValue));
            System.err.println("resuming " + output + " at step " + trainer.steps());
        } else {
            TrainConfig tc = new TrainConfig(batchSize, lr, beta1, beta2, adamEps, weightDecay, warmupSteps,
                    maxGradNorm, emaDecay, !noEmaWarmup, captionDropout, minSnrGamma, seed, precisionValue,
                    cacheLatents, cooldownStart(), cooldownEnd());
            // a checkpoint's own YAML beside it (NAME.yaml, as generate reads it) holds what its keys cannot:
            // scale factor, head counts, schedule; detection from the keys is the last resort
            Path yaml = initFrom != null ? ModelConfig.configFor(initFrom, config) : config;
            if (yaml != null && config == null) {
                System.err.println("using the config beside the checkpoint: " + yaml);
            }
            ModelConfig mc = yaml != null ? ModelConfig.fromYaml(yaml) : null;
            if (initFrom != null && mc == null && prediction == null) {
                requireKnownPrediction(initFrom);
            }
            LatentDiffusion model = initFrom != null
                    ? LatentDiffusion.fromCheckpoint(initFrom, mc, trainTextEncoder)
                    : LatentDiffusion.fromScratch(mc, seed, vae);
            if (prediction != null) {
                model = model.withPrediction(Prediction.byName(prediction));
            }
            trainer = new DiffusionTrainer(model, tc);
        }
        int size = resolution > 0 ? resolution : firstImageSize(data);
        Dataset dataset = Dataset.open(data, DatasetOptions.of(size).withFlip(flip).withSeed(trainer.config().seed()))
                .split().train();
        if (balanceTags != null) {
            TagBalance balance = new TagBalance(List.of(balanceTags.split("\\|")));
            if (balance.counts(dataset).isEmpty()) {
                throw new BadInputException("--balance-tags: no training caption has any of the tags " + balance.tags());
            }
            dataset = dataset.balanced(balance);
        }
        NamePrompts names;
        try {
            names = NamePrompts.of(namePrompts, dataset);
        } catch (BadRequestException e) {
            throw new BadInputException("--name-prompts: " + e.getMessage());
        }
        TrainingData examples = new DatasetTrainingData(dataset, trainer.config().seed(),
                new TagDropout(keepTags, tagDropout), names);
        int f = trainer.model().vae().downscaleFactor();
        if (size % f != 0) {
            throw new BadInputException("training images are " + size + "x" + size + "; the size must be a multiple "
                    + "of the autoencoder's factor " + f);
        }
        if (scaleByStd) {
            try (PointerScope scope = new PointerScope()) {
                double s = trainer.scaleLatentsByStd(examples.batch(0, trainer.config().batchSize()));
                System.err.printf(java.util.Locale.ROOT, "scale_factor %.5f (1 / std of the first batch's latents)%n", s);
            }
        }
        TrainingRun run = new TrainingRun(trainer, examples, output, new TrainingRun.Options(steps, saveEvery, saveDType, size));
        try (TrainProgress progress = new TrainProgress(System.err, System.console() != null, logEvery)) {
            run.run(samplePrompts.isBlank() ? progress : TrainListener.all(progress, new SampleGrids(output,
                    java.util.Arrays.stream(samplePrompts.split("\\|")).map(String::strip)
                            .filter(x -> !x.isEmpty()).toList(), (int) size, 1)));
        }
        System.err.println("wrote " + run.model() + " (generate with: ldm4j generate -m " + run.model()
                + " --config " + run.config() + " -p ...)");
    }

    /**
     * An SD 2.x checkpoint does not say whether it predicts eps or v; generation probes the UNet, but training
     * the wrong target would ruin the model, so the user says it.
     */
    private static void requireKnownPrediction(Path checkpoint) {
        if (!Files.isRegularFile(checkpoint)) {
            return;
        }
        try (SafetensorsFile f = SafetensorsFile.open(checkpoint)) {
            if (Architecture.detectConfig(f).architecture() == Architecture.SD2) {
                throw new BadInputException(checkpoint + " is an SD 2.x checkpoint, which does not record whether it "
                        + "predicts eps or v: give --config (v2-inference.yaml / v2-inference-v.yaml) or --prediction");
            }
        }
    }

    private boolean given(String flag) {
        return spec.commandLine().getParseResult().hasMatchedOption(flag);
    }

    /** The saved training config with the hyper-parameters given on this command line. */
    private UnaryOperator<TrainConfig> changes(Precision precisionValue) {
        return saved -> {
            List<String> changed = new ArrayList<>();
            TrainConfig c = new TrainConfig(
                    pick("--batch-size", saved.batchSize(), batchSize, changed),
                    pick("--lr", saved.learningRate(), lr, changed),
                    pick("--adam-beta1", saved.beta1(), beta1, changed),
                    pick("--adam-beta2", saved.beta2(), beta2, changed),
                    pick("--adam-eps", saved.adamEps(), adamEps, changed),
                    pick("--weight-decay", saved.weightDecay(), weightDecay, changed),
                    pick("--warmup-steps", saved.warmupSteps(), warmupSteps, changed),
                    pick("--max-grad-norm", saved.maxGradNorm(), maxGradNorm, changed),
                    pick("--ema-decay", saved.emaDecay(), emaDecay, changed),
                    pick("--no-ema-warmup", saved.emaWarmup(), !noEmaWarmup, changed),
                    pick("--caption-dropout", saved.captionDropout(), captionDropout, changed),
                    pick("--min-snr-gamma", saved.minSnrGamma(), minSnrGamma, changed),
                    saved.seed(),
                    pick("--precision", saved.precision(), precisionValue, changed),
                    pick("--cache-latents", saved.cacheLatents(), cacheLatents, changed),
                    pick("--lr-cooldown", saved.decayStart(), cooldownStart(), changed),
                    pick("--lr-cooldown", saved.decayEnd(), cooldownEnd(), changed));
            if (!changed.isEmpty()) {
                System.err.println("warning: resuming with changed " + String.join(", ", new LinkedHashSet<>(changed))
                        + ": the run no longer matches an uninterrupted one");
            }
            return c;
        };
    }

    /** {@code --lr-cooldown} as {@link TrainConfig}'s absolute steps; 0 and 0 for none. */
    private long cooldownStart() {
        return cooldown > 0 ? steps - cooldown : 0;
    }

    private long cooldownEnd() {
        return cooldown > 0 ? steps : 0;
    }

    private <T> T pick(String flag, T saved, T given, List<String> changed) {
        if (given(flag) && !given.equals(saved)) {
            changed.add(flag);
            return given;
        }
        return saved;
    }

    /** The shorter side of the first image in the folder (by name), the default training size. */
    static int firstImageSize(Path folder) {
        if (!java.nio.file.Files.isDirectory(folder)) {
            throw new BadInputException("training data folder " + folder
                    + (java.nio.file.Files.exists(folder) ? " is not a folder" : " does not exist"));
        }
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(folder, 2)) {
            Path first = files.filter(p -> p.getFileName().toString().toLowerCase(java.util.Locale.ROOT)
                    .matches(".*\\.(png|jpe?g|bmp)")).sorted().findFirst()
                    .orElseThrow(() -> new BadInputException("no images in " + folder));
            dev.ldm4j.io.RgbImage img = dev.ldm4j.io.Images.readRgb(first);
            return Math.min(img.width(), img.height());
        } catch (java.io.IOException e) {
            throw new BadInputException("cannot read the data folder " + folder + ": " + e.getMessage());
        }
    }
}
