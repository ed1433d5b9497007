package dev.ldm4j.spark;

import dev.ldm4j.pipeline.GenerationRequest;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The rows of {@code results.parquet}, one per request of the table: what was asked (the request's fields after
 * the defaults, in AUTOMATIC1111's names, and the row as given), what came out (the image's path relative to the
 * output folder and its {@code parameters} text), how long it took and what went wrong.
 */
final class Results {
    static final String GENERATED = "generated";
    static final String SKIPPED = "skipped";
    static final String FAILED = "failed";

    static final StructType SCHEMA = new StructType(new StructField[] {
        field("row", DataTypes.LongType, false),
        field("id", DataTypes.StringType, true),
        field("status", DataTypes.StringType, false),
        field("seed", DataTypes.LongType, true),
        field("prompt", DataTypes.StringType, true),
        field("negative_prompt", DataTypes.StringType, true),
        field("steps", DataTypes.IntegerType, true),
        field("cfg_scale", DataTypes.DoubleType, true),
        field("sampler_name", DataTypes.StringType, true),
        field("scheduler", DataTypes.StringType, true),
        field("width", DataTypes.IntegerType, true),
        field("height", DataTypes.IntegerType, true),
        field("eta", DataTypes.DoubleType, true),
        field("clip_skip", DataTypes.IntegerType, true),
        field("parameters", DataTypes.StringType, true),
        field("image", DataTypes.StringType, true),
        field("seconds", DataTypes.DoubleType, true),
        field("error", DataTypes.StringType, true),
        field("request", DataTypes.StringType, false),
    });

    private Results() {}

    private static StructField field(String name, org.apache.spark.sql.types.DataType type, boolean nullable) {
        return DataTypes.createStructField(name, type, nullable);
    }

    /**
     * One result row.
     *
     * @param r       the request as read (null when it could not be)
     * @param seed    the row's seed when {@code r} is null and the seed is known, else null
     * @param image   the image's path relative to the output folder (null when there is none)
     * @param seconds the generation's wall time (null when none ran)
     */
    static Row of(BatchRow in, String status, GenerationRequest r, Long seed, String parameters, String image,
                  Double seconds, String error) {
        return RowFactory.create(in.row(), in.id(), status, r != null ? (Long) r.seed() : seed,
                r == null ? null : r.prompt(), r == null ? null : r.negativePrompt(),
                r == null ? null : (Integer) r.steps(), r == null ? null : (Double) r.cfgScale(),
                r == null ? null : r.sampler(), r == null ? null : r.scheduler(),
                r == null ? null : (Integer) r.width(), r == null ? null : (Integer) r.height(),
                r == null ? null : (Double) r.eta(), r == null ? null : (Integer) r.clipSkip(),
                parameters, image, seconds, error, in.json());
    }
}
