package dev.ldm4j.cli;

import dev.ldm4j.data.Dataset;
import dev.ldm4j.data.DatasetException;
import dev.ldm4j.data.DatasetOptions;
import dev.ldm4j.data.Split;
import dev.ldm4j.io.DType;
import dev.ldm4j.nn.Precision;
import dev.ldm4j.nn.Torch;
import dev.ldm4j.train.Autocast;
import dev.ldm4j.train.vae.AutoencoderSpec;
import dev.ldm4j.train.vae.AutoencoderState;
import dev.ldm4j.train.vae.AutoencoderTrainer;
import dev.ldm4j.train.vae.AutoencoderTrainingRun;
import dev.ldm4j.train.vae.VaeStepResult;
import dev.ldm4j.train.vae.VaeTrainListener;
import dev.ldm4j.train.vae.VaeTrainOptions;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code ldm4j train-vae}: trains the KL autoencoder of latent diffusion on a folder of images, from a CompVis
 * {@code autoencoder_kl_*.yaml}-style config. The run folder receives {@code vae.safetensors}
 * ({@code first_stage_model.*} keys: usable as {@code generate --vae} and as {@code train --vae}),
 * {@code vae.yaml}, {@code state.safetensors} for {@code --resume}, and {@code losses.csv}.
 */
@Command(name = "train-vae", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a KL autoencoder (the first stage of latent diffusion) on a folder of images.")
final class TrainVaeCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", required = true, paramLabel = "DIR",
            description = "Image folder (the dataset format of 'train'; captions are not needed). Its held-out split "
                    + "gives the PSNR.")
    Path data;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR",
            description = "Run folder: vae.safetensors + vae.yaml, state.safetensors, losses.csv.")
    Path output;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Autoencoder YAML (configs/autoencoder/autoencoder_kl_*.yaml structure). Required unless "
                    + "--resume.")
    Path config;

    @Option(names = "--resume", description = "Continue the run in the output folder from its state.safetensors.")
    boolean resume;

    @Option(names = "--steps", defaultValue = "1000", description = "Total steps (default ${DEFAULT-VALUE}).")
    long steps;

    @Option(names = "--size", defaultValue = "0", paramLabel = "N",
            description = "Training image size (square); 0 = the config's ddconfig resolution.")
    int size;

    @Option(names = {"-b", "--batch-size"}, defaultValue = "8", description = "Default ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--lr", defaultValue = "0", paramLabel = "LR",
            description = "Learning rate; 0 = base_learning_rate x batch size, as the reference scales it.")
    double lr;

    @Option(names = {"-s", "--seed"}, defaultValue = "42", description = "Default ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--precision", defaultValue = "fp32", description = "fp32 or bf16 (autocast; default ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--flip", description = "Random horizontal flips.")
    boolean flip;

    @Option(names = "--disc-start", paramLabel = "STEP", description = "Override lossconfig disc_start.")
    Long discStart;

    @Option(names = "--no-adaptive-weight", description = "Fixed disc_weight instead of the adaptive weight.")
    boolean noAdaptive;

    @Option(names = "--weight-decay", defaultValue = "0", description = "AdamW weight decay (default ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--eval-every", defaultValue = "500", description = "Held-out PSNR every N steps and at the end "
            + "(default ${DEFAULT-VALUE}).")
    int evalEvery;

    @Option(names = "--save-every", defaultValue = "1000", description = "Checkpoint every N steps and at the end "
            + "(default ${DEFAULT-VALUE}).")
    int saveEvery;

    @Option(names = "--save-precision", defaultValue = "fp32", description = "fp32, fp16 or bf16 for vae.safetensors.")
    String savePrecision;

    @Option(names = "--log-every", defaultValue = "10", description = "Progress line every N steps (default ${DEFAULT-VALUE}).")
    int logEvery;

    @Mixin
    Threads threads;

    @Override
    public void run() {
        Torch.load();
        threads.apply();
        DType saveDType = Precision.parse(savePrecision, "checkpoint", Precision.values()).dtype();
        Path statePath = output.resolve(AutoencoderTrainingRun.STATE);
        AutoencoderTrainer trainer;
        if (resume) {
            if (!Files.isRegularFile(statePath)) {
                throw new BadInputException("--resume: no " + AutoencoderTrainingRun.STATE + " in " + output);
            }
            trainer = AutoencoderState.resume(statePath);
        } else {
            if (config == null) {
                throw new BadInputException("--config is required (or --resume to continue a run)");
            }
            if (Files.exists(statePath)) {
                throw new BadInputException(output + " already holds a run (" + AutoencoderTrainingRun.STATE
                        + "): use --resume to continue it, or another --output");
            }
            AutoencoderSpec s = AutoencoderSpec.read(config);
            if (discStart != null) {
                s = new AutoencoderSpec(s.vae(), s.loss().withDiscStart(discStart), s.baseLearningRate());
            }
            if (noAdaptive) {
                s = new AutoencoderSpec(s.vae(), s.loss().withAdaptiveWeight(false), s.baseLearningRate());
            }
            VaeTrainOptions o = VaeTrainOptions.of(s, batchSize, seed)
                    .withPrecision(Autocast.parse(precision)).withFlip(flip).withWeightDecay(weightDecay);
            if (size > 0) {
                o = o.withImageSize(size);
            }
            if (lr > 0) {
                o = o.withLearningRate(lr);
            }
            s.checkImageSize(o.imageSize());
            trainer = AutoencoderTrainer.create(s, o);
        }
        VaeTrainOptions o = trainer.options();
        Split split;
        try {
            split = Dataset.open(data, DatasetOptions.of(o.imageSize()).withFlip(o.flip()).withSeed(o.seed())).split();
        } catch (DatasetException e) {
            throw new BadInputException(e.getMessage());
        }
        if (split.train().size() < o.batchSize()) {
            throw new BadInputException("the training split of " + data + " has " + split.train().size()
                    + " images, fewer than a batch of " + o.batchSize());
        }
        PrintWriter err = spec.commandLine().getErr();
        err.printf(Locale.ROOT, "train-vae: %d training / %d held-out images at %dx%d, batch %d, lr %.3g, %s%n",
                split.train().size(), split.heldOut().size(), o.imageSize(), o.imageSize(), o.batchSize(),
                o.learningRate(), o.precision().cliName());
        AutoencoderTrainingRun run = new AutoencoderTrainingRun(trainer, split.train(), split.heldOut(), output,
                new AutoencoderTrainingRun.Options(steps, saveEvery, evalEvery, saveDType));
        run.run(new VaeTrainListener() {
            @Override
            public void onStep(VaeStepResult r, double psnr) {
                if (r.step() % Math.max(1, logEvery) == 0 || r.step() == steps || !Double.isNaN(psnr)) {
                    err.printf(Locale.ROOT, "step %d/%d  loss %.4g  rec %.4g  kl %.4g%s  %.1f img/s%s%n", r.step(), steps,
                            r.loss(), r.reconstruction(), r.kl(),
                            r.discriminatorOn() ? String.format(Locale.ROOT, "  g %.3g  d %.3g", r.generatorLoss(),
                                    r.discLoss()) : "",
                            r.examplesPerSecond(),
                            Double.isNaN(psnr) ? "" : String.format(Locale.ROOT, "  held-out PSNR %.2f dB", psnr));
                }
            }
        });
        err.printf("train-vae: %s, %s%n", run.model(), run.config());
    }
}
