package dev.ldm4j.cli;

import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.model.DefaultModel;
import dev.ldm4j.model.DiffusersFolder;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.spark.BatchJob;
import dev.ldm4j.spark.BatchSession;
import dev.ldm4j.spark.BatchSpec;
import dev.ldm4j.spark.RowDefaults;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ldm4j batch}: a table of requests (AUTOMATIC1111's field names, one row each) through a Spark job, in
 * this JVM ({@code local[N]}) or on a cluster (spark-submit). Spark's types stay out of this class, so that the
 * CLI starts and shows its help without Spark on the class path.
 */
@Command(name = "batch", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Generate one image per row of a table (JSON Lines, CSV or Parquet; columns named as the "
                + "AUTOMATIC1111 API's fields) with Apache Spark: locally (--master local[N]) or on a cluster "
                + "(spark-submit). Writes OUT/images/ID.png and OUT/results.parquet; a rerun skips the rows whose "
                + "image exists.")
final class BatchCommand implements Callable<Integer> {
    /** Exit code of a job that finished with failed rows (they are listed in results.parquet). */
    static final int ROWS_FAILED = 3;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "FILE",
            description = "Checkpoint, at the same path on every executor (default: ldm4j's emoji model, which each "
                    + "executor unpacks from its jar).")
    Path model;

    @Option(names = "--config", paramLabel = "FILE", description = "LDM YAML config (default: beside the checkpoint).")
    Path config;

    @Option(names = "--prompts", required = true, paramLabel = "TABLE",
            description = "The requests: .jsonl, .csv (header line) or .parquet; a local path or a Hadoop URI.")
    String prompts;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT",
            description = "Output folder (images/ and results.parquet); on a cluster, one that every node sees.")
    Path output;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master: local[N], spark://HOST:PORT, yarn, k8s://... (default: spark-submit's, "
                    + "else local[*]).")
    String master;

    @Option(names = {"-s", "--seed"}, defaultValue = "42",
            description = "Seed of the rows without one: each gets a seed made from this and its id, the same "
                    + "however the rows are split (default ${DEFAULT-VALUE}; -1 = random, printed).")
    long seed;

    @Option(names = "--partitions", defaultValue = "0", paramLabel = "N",
            description = "Tasks to split the rows into (default: one per row, at most "
                    + BatchSpec.MAX_DEFAULT_PARTITIONS + ").")
    int partitions;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "A Spark setting (repeatable), as spark-submit's.")
    Map<String, String> conf = new LinkedHashMap<>();

    @Option(names = {"-n", "--negative-prompt"}, defaultValue = "",
            description = "negative_prompt of rows without one (default empty).")
    String negativePrompt;

    @Option(names = "--steps", defaultValue = "20", description = "steps of rows without them (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--cfg-scale", defaultValue = "7.0",
            description = "cfg_scale of rows without one (default ${DEFAULT-VALUE}).")
    double cfgScale;

    @Option(names = "--sampling-method", defaultValue = "euler_a", completionCandidates = SamplerNames.class,
            description = "sampler_name of rows without one (default ${DEFAULT-VALUE}).")
    String sampler;

    @Option(names = "--scheduler", defaultValue = "automatic", completionCandidates = SchedulerNames.class,
            description = "scheduler of rows without one (default: the sampler's own).")
    String scheduler;

    @Option(names = {"-W", "--width"}, paramLabel = "W",
            description = "width of rows without one (default: the config's ldm4j.image_size, else 512).")
    Integer width;

    @Option(names = {"-H", "--height"}, paramLabel = "H",
            description = "height of rows without one (default: the config's ldm4j.image_size, else 512).")
    Integer height;

    @Option(names = {"-v", "--verbose"}, description = "Print the stack trace of an internal error.")
    boolean verbose;

    @Override
    public Integer call() {
        boolean defaultModel = model == null;
        Path modelFile = defaultModel ? DefaultModel.resolve() : model;
        // read on the driver before any Spark work: a missing or unreadable model is reported once, here
        ModelConfig modelConfig = ModelLoader.config(modelFile, config);
        if (!DiffusersFolder.is(modelFile)) {
            // the header too (read, not loaded): a truncated file fails here, not in every executor
            try (SafetensorsFile f = SafetensorsFile.open(modelFile)) {
                f.keys();
            }
        }
        int fallback = ModelConfig.recommendedImageSize(ModelConfig.configFor(modelFile, config)).orElse(512);
        if (partitions < 0) {
            throw new BadInputException("--partitions must be >= 1 (or 0 for one per row), got " + partitions);
        }
        if (seed == -1) {
            seed = new SecureRandom().nextInt() & 0x7fffffffL;
        }
        PrintWriter err = spec.commandLine().getErr();
        RowDefaults defaults = new RowDefaults(negativePrompt, steps, cfgScale, sampler, scheduler,
                width != null ? width : fallback, height != null ? height : fallback, seed,
                modelConfig.vae().downscaleFactor());
        BatchSpec job = new BatchSpec(defaultModel ? null : absolute(model), config == null ? null : absolute(config),
                prompts, output.toAbsolutePath().normalize().toString(), master, partitions, conf, defaults);
        BatchJob.Summary s;
        try (BatchSession session = BatchSession.open(job.master(), job.conf())) {
            err.println("seed " + seed);
            s = BatchJob.run(session.session(), job, err);
        } catch (NoClassDefFoundError e) {
            String missing = String.valueOf(e.getMessage());
            if (missing.startsWith("org/apache/spark") || missing.startsWith("scala/")) {
                throw new BadInputException("ldm4j batch needs Apache Spark on the class path: run it through the "
                        + "ldm4j script (which adds target/spark-lib), or spark-submit the jar of ./mvnw -Pspark "
                        + "package (README, \"Batch generation\")");
            }
            throw e;
        }
        err.printf("%d rows: %d generated, %d skipped (image exists), %d failed; results in %s%n", s.rows(),
                s.generated(), s.skipped(), s.failed(), output.resolve("results.parquet"));
        s.errors().forEach(e -> err.println("  failed: " + e));
        err.flush();
        return s.failed() == 0 ? 0 : ROWS_FAILED;
    }

    private static String absolute(Path p) {
        return p.toAbsolutePath().normalize().toString();
    }
}
