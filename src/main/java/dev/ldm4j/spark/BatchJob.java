package dev.ldm4j.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.io.AtomicFiles;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.OutputFileException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple2;

/**
 * {@code ldm4j batch} on the driver: reads the table, gives each row its id, splits the rows into tasks that
 * generate on the executors ({@link RowRunner}), and writes {@code results.parquet} (one row per request, in the
 * table's order) while printing progress.
 */
public final class BatchJob {
    /** What a finished job did; {@code errors} holds "id: error" of the first few failed rows. */
    public record Summary(long rows, long generated, long skipped, long failed, List<String> errors) {}

    private static final int ERRORS_SHOWN = 5;

    private BatchJob() {}

    /** Runs the job on {@code spark}; progress and the summary go to {@code err}. */
    public static Summary run(SparkSession spark, BatchSpec spec, PrintWriter err) {
        Path images = spec.imagesDir().toAbsolutePath();
        try {
            Files.createDirectories(images);
        } catch (IOException e) {
            throw new OutputFileException("cannot create " + images + ": " + e.getMessage(), e);
        }
        AtomicFiles.checkWritable(images.resolve("ldm4j-batch-probe.png"));
        JavaRDD<BatchRow> rows = Tables.read(spark, spec.prompts()).zipWithIndex().mapPartitions(new Identify())
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            long total = rows.count();
            if (total == 0) {
                throw new BadRequestException("--prompts " + spec.prompts() + ": the table has no rows");
            }
            List<String> repeated = rows.filter(r -> r.id() != null).mapToPair(r -> new Tuple2<>(r.id(), 1))
                    .reduceByKey(Integer::sum).filter(t -> t._2() > 1).keys().take(ERRORS_SHOWN);
            if (!repeated.isEmpty()) {
                throw new BadRequestException("--prompts " + spec.prompts() + ": ids must be unique (they name the "
                        + "images); repeated: " + String.join(", ", repeated));
            }
            int partitions = spec.partitions() > 0 ? spec.partitions()
                    : (int) Math.min(total, BatchSpec.MAX_DEFAULT_PARTITIONS);
            LongAccumulator done = spark.sparkContext().longAccumulator("ldm4j rows done");
            LongAccumulator skipped = spark.sparkContext().longAccumulator("ldm4j rows skipped");
            LongAccumulator failed = spark.sparkContext().longAccumulator("ldm4j rows failed");
            JavaRDD<Row> results = rows.repartition(partitions)
                    .mapPartitions(new RowRunner(spec, done, skipped, failed))
                    .persist(StorageLevel.MEMORY_AND_DISK());
            try {
                try (BatchProgress progress = new BatchProgress(err, total, done, skipped, failed)) {
                    // the one pass that generates; what follows reads the persisted results
                    results.count();
                } catch (RuntimeException e) {
                    throw modelFailure(e);
                }
                String target = spec.outputDir().toAbsolutePath().resolve("results.parquet").toUri().toString();
                spark.createDataFrame(results, Results.SCHEMA).orderBy("row").coalesce(1).write()
                        .mode(SaveMode.Overwrite).parquet(target);
                return summary(results, total);
            } finally {
                results.unpersist(false);
            }
        } finally {
            rows.unpersist(false);
            if (spark.sparkContext().isLocal()) {
                // the executor was this JVM: the CLI's or a caller's, which should not keep the model
                ExecutorModel.release();
            }
        }
    }

    /**
     * A job that failed because an executor could not load the model fails with the loader's own error (a
     * missing or broken file is the user's to fix, exit 2), not with Spark's wrapping of it.
     */
    private static RuntimeException modelFailure(RuntimeException e) {
        for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof ExecutorModel.LoadFailure && t.getCause() instanceof RuntimeException cause) {
                return cause;
            }
        }
        return e;
    }

    private static Summary summary(JavaRDD<Row> results, long total) {
        Map<String, Long> counts = results.map(r -> r.getString(2)).countByValue();
        List<String> errors = new ArrayList<>();
        for (Row r : results.filter(r -> r.getString(2).equals(Results.FAILED)).takeOrdered(ERRORS_SHOWN, new ByRow())) {
            errors.add((r.isNullAt(1) ? "row " + r.getLong(0) : r.getString(1)) + ": " + r.getString(17));
        }
        return new Summary(total, counts.getOrDefault(Results.GENERATED, 0L), counts.getOrDefault(Results.SKIPPED, 0L),
                counts.getOrDefault(Results.FAILED, 0L), errors);
    }

    /** Orders result rows by their row number. */
    private static final class ByRow implements java.util.Comparator<Row>, java.io.Serializable {
        @Override
        public int compare(Row a, Row b) {
            return Long.compare(a.getLong(0), b.getLong(0));
        }
    }

    /** Row number (from 1) and id of each row; an unusable id makes the row fail, not the job. */
    private static final class Identify implements FlatMapFunction<Iterator<Tuple2<String, Long>>, BatchRow> {
        @Override
        public Iterator<BatchRow> call(Iterator<Tuple2<String, Long>> in) {
            ObjectMapper json = new ObjectMapper();
            List<BatchRow> out = new ArrayList<>();
            while (in.hasNext()) {
                Tuple2<String, Long> t = in.next();
                long row = t._2() + 1;
                try {
                    JsonNode node = json.readTree(t._1());
                    String id = node == null || !node.isObject() ? Long.toString(row) : RowRequests.id(node, row);
                    out.add(new BatchRow(row, id, t._1(), null));
                } catch (BadRequestException e) {
                    out.add(new BatchRow(row, null, t._1(), e.getMessage()));
                } catch (IOException e) {
                    // not JSON: the row fails when it is run, under its row number
                    out.add(new BatchRow(row, Long.toString(row), t._1(), null));
                }
            }
            return out.iterator();
        }
    }
}
