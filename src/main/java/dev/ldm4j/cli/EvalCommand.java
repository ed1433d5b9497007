package dev.ldm4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ldm4j.data.Dataset;
import dev.ldm4j.data.DatasetException;
import dev.ldm4j.data.DatasetOptions;
import dev.ldm4j.data.Split;
import dev.ldm4j.eval.CategoryClassifier;
import dev.ldm4j.eval.EmojiEval;
import dev.ldm4j.eval.NameRetrieval;
import dev.ldm4j.io.AtomicFiles;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.ImageGrid;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.model.DefaultModel;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.nn.Precision;
import dev.ldm4j.nn.Torch;
import dev.ldm4j.pipeline.GenerationRequest;
import dev.ldm4j.pipeline.GenerationResult;
import dev.ldm4j.pipeline.Generator;
import dev.ldm4j.sampling.Samplers;
import dev.ldm4j.sampling.Scheduler;
import dev.ldm4j.sampling.StepListener;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ldm4j eval}: the quality figures of an emoji text-to-image model (by default ldm4j's own) on the
 * held-out split of the emoji dataset; see {@link EmojiEval}.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measure an emoji model on the dataset's held-out split: category accuracy of generated "
                + "images, Fréchet distance of classifier features, autoencoder PSNR.")
final class EvalCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "FILE",
            description = "The model to measure; default: ldm4j's own (" + DefaultModel.MODEL + ").")
    Path model;

    @Option(names = "--config", paramLabel = "FILE",
            description = "LDM YAML config; default: NAME.yaml beside the checkpoint, else detected from it.")
    Path config;

    @Option(names = "--data", defaultValue = "data/emoji", paramLabel = "DIR",
            description = "The emoji dataset (scripts/fetch-emoji-dataset.sh; default ${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--classifier", paramLabel = "FILE",
            description = "The category classifier; default: " + DefaultModel.CLASSIFIER + ".")
    Path classifier;

    @Option(names = "--steps", defaultValue = "20", description = "Sampling steps (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--cfg-scale", defaultValue = "5.0", description = "Guidance scale (default ${DEFAULT-VALUE}).")
    double cfgScale;

    @Option(names = "--sampling-method", defaultValue = "dpm++2m", completionCandidates = SamplerNames.class,
            description = "Sampler: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
    String sampler;

    @Option(names = "--scheduler", defaultValue = "karras", completionCandidates = SchedulerNames.class,
            description = "${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
    String scheduler;

    @Option(names = {"-s", "--seed"}, defaultValue = "0", description = "Seed of the first image; image i uses seed + i, "
            + "the k-th further image of each caption seed + k * captions + i (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--limit", defaultValue = "0", paramLabel = "N",
            description = "Only the first N held-out images (0 = all).")
    int limit;

    @Option(names = "--prompt-tags", defaultValue = "0", paramLabel = "N",
            description = "Prompt with only the first N comma-separated tags of each caption (1 = the emoji's name, "
                    + "as a user would type it); 0 = the whole caption (default).")
    int promptTags;

    @Option(names = "--seeds-per-caption", paramLabel = "K", defaultValue = "1",
            description = "Images generated from each held-out caption (default ${DEFAULT-VALUE}); more make the "
                    + "category accuracy and the Fréchet distance less noisy, at K times the time.")
    int seedsPerCaption;

    @Option(names = "--name-retrieval", paramLabel = "SEEDS", defaultValue = "0",
            description = "Also measure name retrieval: SEEDS images per emoji name, each matched to the nearest "
                    + "dataset image (pixels and classifier features); top-1 and top-5 (0 = not measured, default).")
    int retrievalSeeds;

    @Option(names = "--retrieval-names", paramLabel = "N", defaultValue = "200",
            description = "Training names the retrieval samples, spread evenly; 0 = all (default ${DEFAULT-VALUE}). "
                    + "Every held-out name is measured.")
    int retrievalNames;

    @Option(names = "--baseline", paramLabel = "FILE",
            description = "Also measure this model (its NAME.yaml beside it, else detected) with the same settings, "
                    + "seeds and judge, and print both side by side.")
    Path baseline;

    @Option(names = "--baseline-config", paramLabel = "FILE", description = "LDM YAML config of --baseline.")
    Path baselineConfig;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures as JSON.")
    Path json;

    @Option(names = "--grid", paramLabel = "FILE", description = "Also write the generated images as one PNG grid.")
    Path grid;

    @Option(names = "--everyday-grid", paramLabel = "FILE",
            description = "Instead of the evaluation: draw the model card's by-eye grid, 16 everyday prompts (rows) x "
                    + "seeds 0..7 (columns), into FILE.")
    Path everydayGrid;

    @Mixin
    Threads threads;

    /** What a new user types first: the model card's grid shows each at the first 8 seeds. */
    static final List<String> EVERYDAY = List.of("red apple", "dog face", "cat face", "rocket", "france flag",
            "pizza", "red heart", "grinning face", "soccer ball", "sun", "house", "car", "tree", "bicycle", "banana",
            "birthday cake");

    /**
     * Draws the by-eye grid; with a judge, also prints the categories it gives each prompt's 8 images (a check
     * of the judge on generated images whose subject is known: "red apple" should be food &amp; drink).
     */
    private void drawEverydayGrid(Path m, CategoryClassifier judge) {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        AtomicFiles.checkWritable(everydayGrid);
        try (LatentDiffusionModel sd = ModelLoader.load(ModelLoader.Options.of(m).withConfig(config)
                .withPrecision(Precision.FP32, Precision.FP32))) {
            int size = ModelConfig.recommendedImageSize(ModelConfig.configFor(m, config)).orElse(64);
            Generator txt2img = new Generator(sd);
            List<RgbImage> images = new java.util.ArrayList<>();
            for (String prompt : EVERYDAY) {
                Map<String, Integer> judged = new java.util.TreeMap<>();
                for (int s = 0; s < 8; s++) {
                    try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope();
                         GenerationResult r = txt2img.generate(new GenerationRequest(prompt, "", size, size, steps,
                                 cfgScale, sampler, scheduler, 0, s, 1, 0), StepListener.NONE)) {
                        images.add(ImageTensors.toRgb8(r.images()).get(0));
                        if (judge != null && size == CategoryClassifier.SIZE) {
                            Tensor x = CategoryClassifier.inputOf(r.images());
                            judged.merge(judge.predict(x)[0].label(), 1, Integer::sum);
                        }
                    }
                }
                err.println("everyday grid: " + prompt);
                err.flush();
                if (!judged.isEmpty()) {
                    out.println(prompt + ": judged " + judged.entrySet().stream().sorted((a, b) -> b.getValue() - a
                            .getValue()).map(e -> e.getKey() + " " + e.getValue()).collect(
                                    java.util.stream.Collectors.joining(", ")));
                    out.flush();
                }
            }
            Images.writePng(everydayGrid, ImageGrid.tile(images, 8, 2), Map.of(Images.PARAMETERS, "rows: "
                    + String.join(" | ", EVERYDAY) + "; columns: seeds 0..7; " + sampler + " " + scheduler + ", "
                    + steps + " steps, cfg " + cfgScale + "; model " + m.getFileName()));
            err.println("wrote " + everydayGrid);
        }
    }

    @Override
    public void run() {
        Path m = model != null ? model : DefaultModel.model();
        Path c = classifier != null ? classifier : DefaultModel.classifier();
        if (!Files.isRegularFile(m)) {
            throw new BadInputException("model " + m + " does not exist");
        }
        Samplers.byName(sampler);
        Scheduler.byName(scheduler);
        Torch.load();
        threads.apply();
        if (everydayGrid != null) {
            // the judge is optional here: the grid is for the eye
            drawEverydayGrid(m, classifier != null || Files.isRegularFile(c) ? CategoryClassifier.load(c) : null);
            return;
        }
        CategoryClassifier judge = CategoryClassifier.load(c);
        Split split;
        try {
            split = Dataset.open(data, DatasetOptions.of(CategoryClassifier.SIZE)).split();
        } catch (DatasetException e) {
            throw new BadInputException(e.getMessage() + " (fetch the emoji dataset with scripts/fetch-emoji-dataset.sh)");
        }
        EmojiEval.Settings settings;
        try {
            settings = new EmojiEval.Settings(steps, cfgScale, sampler, scheduler, seed, limit, promptTags,
                    seedsPerCaption);
        } catch (BadRequestException e) {
            throw new BadInputException((promptTags < 0 ? "--prompt-tags: " : "--seeds-per-caption: ")
                    + e.getMessage());
        }
        if (baseline != null && !Files.isRegularFile(baseline)) {
            throw new BadInputException("baseline model " + baseline + " does not exist");
        }
        Measured measured = measure(m, config, judge, split, settings);
        Measured base = baseline == null ? null : measure(baseline, baselineConfig, judge, split, settings);
        double closer = base == null ? Double.NaN : measured.result().shareCloserThan(base.result());
        if (base != null) {
            printComparison(measured, base, closer);
        }
        if (json != null) {
            try {
                ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
                Map<String, Object> all = new java.util.LinkedHashMap<>(Map.of("settings", settings));
                all.putAll(measured.json());
                if (base != null) {
                    all.put("baseline", base.json());
                    all.put("frechetDistanceShareOfResamplesCloserThanBaseline", closer);
                }
                AtomicFiles.writeString(json, mapper.writeValueAsString(all) + "\n");
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
            spec.commandLine().getErr().println("wrote " + json);
        }
        if (grid != null) {
            Images.writePng(grid, ImageGrid.tile(measured.result().images(), 16, 2), Map.of());
            spec.commandLine().getErr().println("wrote " + grid);
        }
    }

    /** One model's figures. */
    private record Measured(Path model, EmojiEval.Result result, NameRetrieval.Report names) {
        Map<String, Object> json() {
            Map<String, Object> out = new java.util.LinkedHashMap<>(Map.of("model", model.toString(), "report",
                    result.report()));
            if (names != null) {
                out.put("nameRetrieval", names);
            }
            return out;
        }
    }

    /** Generates and judges {@code m}'s images, printing its figures as they come. */
    private Measured measure(Path m, Path cfg, CategoryClassifier judge, Split split, EmojiEval.Settings settings) {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        try (LatentDiffusionModel sd = ModelLoader.load(ModelLoader.Options.of(m).withConfig(cfg)
                .withPrecision(Precision.FP32, Precision.FP32))) {
            long start = System.nanoTime();
            EmojiEval.Result result = EmojiEval.run(sd, judge, split, settings, done -> {
                if (done % 10 == 0) {
                    err.printf(Locale.ROOT, "eval: %d images generated, %.2f s/image%n", done,
                            (System.nanoTime() - start) / 1e9 / done);
                    err.flush();
                }
            });
            EmojiEval.Report r = result.report();
            int draws = settings.seedsPerCaption();
            out.printf(Locale.ROOT, "model %s, %d held-out captions x %d seeds, %s %d steps, cfg %.1f, seeds %d..%d%n",
                    m, r.images(), draws, sampler, steps, cfgScale, seed, seed + (long) r.images() * draws - 1);
            out.printf(Locale.ROOT, "category accuracy of generated images  %.3f  (majority class '%s': %.3f; "
                    + "classifier on the real held-out images: %.3f, on their autoencoder round trips: %.3f)%n",
                    r.accuracy(), r.majorityCategory(), r.majorityRate(), r.classifierAccuracyOnReal(),
                    r.classifierAccuracyOnDecoded());
            out.printf(Locale.ROOT, "Fréchet distance, classifier features  %.3f  (bootstrap standard error %.3f; real "
                    + "training images of the same categories vs real held-out: %.3f)%n", r.frechetDistance(),
                    r.frechetDistanceStandardError(), r.frechetDistanceRealTrain());
            out.printf(Locale.ROOT, "autoencoder held-out PSNR              %.2f dB%n", r.autoencoderPsnr());
            r.perCategory().forEach((k, v) -> out.printf(Locale.ROOT, "  %-18s %3d/%3d%n", k, v.correct(),
                    v.prompts()));
            out.flush();
            NameRetrieval.Report names = null;
            if (retrievalSeeds > 0) {
                long t0 = System.nanoTime();
                names = NameRetrieval.run(sd, judge, split, new NameRetrieval.Settings(retrievalSeeds, steps,
                        cfgScale, sampler, scheduler, seed, retrievalNames, 0), done -> {
                            if (done % 100 < retrievalSeeds) {
                                err.printf(Locale.ROOT, "name retrieval: %d images, %.2f s/image%n", done,
                                        (System.nanoTime() - t0) / 1e9 / done);
                                err.flush();
                            }
                        });
                for (var e : List.of(Map.entry("training names", names.train()),
                        Map.entry("held-out names", names.heldOut()))) {
                    NameRetrieval.Scores sc = e.getValue();
                    out.printf(Locale.ROOT, "name retrieval, %-15s top-1 %.3f top-5 %.3f (pixels); top-1 %.3f "
                            + "top-5 %.3f (classifier features); %d names x %d seeds%n", e.getKey(), sc.pixelTop1(),
                            sc.pixelTop5(), sc.featureTop1(), sc.featureTop5(), sc.names(), retrievalSeeds);
                }
                List<NameRetrieval.Miss> missed = names.train().missed();
                if (!missed.isEmpty()) {
                    // the training names it never draws: the ones a user would type and not get
                    out.printf(Locale.ROOT, "training names not drawn (no image nearest to its own by pixels), %d of "
                            + "%d: %s%n", missed.size(), names.train().names(), missed.stream()
                            .map(x -> x.name() + " (as " + String.join(", ", x.drawnAs()) + ")")
                            .collect(java.util.stream.Collectors.joining("; ")));
                }
                out.flush();
            }
            return new Measured(m, result, names);
        }
    }

    /** The two models' figures side by side, with which is better (higher, or lower for the distance). */
    private void printComparison(Measured a, Measured b, double firstCloser) {
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "%n%-44s %10s %10s%n", "same settings, same judge", a.model().getFileName(),
                b.model().getFileName());
        EmojiEval.Report ra = a.result().report();
        EmojiEval.Report rb = b.result().report();
        row(out, "category accuracy", ra.accuracy(), rb.accuracy(), true);
        row(out, "Fréchet distance", ra.frechetDistance(), rb.frechetDistance(), false);
        out.printf(Locale.ROOT, "  (the first closer to the real images in %.0f%% of %d paired resamples of the held-out "
                + "captions)%n", 100 * firstCloser, EmojiEval.BOOTSTRAP_RESAMPLES);
        row(out, "autoencoder PSNR (dB)", ra.autoencoderPsnr(), rb.autoencoderPsnr(), true);
        if (a.names() != null) {
            for (var e : List.of(Map.entry("training", List.of(a.names().train(), b.names().train())),
                    Map.entry("held-out", List.of(a.names().heldOut(), b.names().heldOut())))) {
                NameRetrieval.Scores x = e.getValue().get(0);
                NameRetrieval.Scores y = e.getValue().get(1);
                row(out, "name retrieval, " + e.getKey() + ", pixels top-1", x.pixelTop1(), y.pixelTop1(), true);
                row(out, "name retrieval, " + e.getKey() + ", pixels top-5", x.pixelTop5(), y.pixelTop5(), true);
                row(out, "name retrieval, " + e.getKey() + ", features top-1", x.featureTop1(), y.featureTop1(), true);
                row(out, "name retrieval, " + e.getKey() + ", features top-5", x.featureTop5(), y.featureTop5(), true);
            }
        }
        out.flush();
    }

    private static void row(PrintWriter out, String figure, double a, double b, boolean higherIsBetter) {
        String verdict = a == b ? "same" : (a > b) == higherIsBetter ? "first better" : "second better";
        out.printf(Locale.ROOT, "%-44s %10.3f %10.3f  %s%n", figure, a, b, verdict);
    }
}
