package dev.ldm4j.spark;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.Map;

/**
 * What {@code ldm4j batch} was asked to do. It travels to the executors inside the tasks' closures, so it holds
 * paths and numbers, never weights: each executor loads the model from {@code model} itself ({@link ExecutorModel}).
 *
 * @param model      the checkpoint; null for ldm4j's default model, which every executor unpacks from its own jar
 * @param config     the LDM YAML config, or null (beside the checkpoint, else detected)
 * @param prompts    the table: JSON Lines, CSV or Parquet, by extension; a local path or a Hadoop URI
 * @param output     the output folder: images/ and results.parquet; on a cluster a folder every node sees
 * @param master     Spark's master URL; null: spark-submit's, else {@code local[*]}
 * @param partitions how many tasks the rows are split into; 0: one per row, at most {@link #MAX_DEFAULT_PARTITIONS}
 * @param conf       more Spark settings ({@code --conf key=value})
 * @param defaults   what a row's missing columns take
 */
public record BatchSpec(String model, String config, String prompts, String output, String master, int partitions,
                        Map<String, String> conf, RowDefaults defaults) implements Serializable {
    /** The default split's cap: a task costs tens of milliseconds, a row seconds, so one row a task is cheap. */
    public static final int MAX_DEFAULT_PARTITIONS = 10_000;

    public BatchSpec {
        conf = conf == null ? Map.of() : Map.copyOf(conf);
    }

    Path outputDir() {
        return Path.of(output);
    }

    Path imagesDir() {
        return outputDir().resolve("images");
    }
}
