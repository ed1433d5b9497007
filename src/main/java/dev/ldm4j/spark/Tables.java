package dev.ldm4j.spark;

import dev.ldm4j.io.BadRequestException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;

/**
 * The prompts table as one JSON object per request, in the table's order. The format follows the extension:
 * JSON Lines ({@code .jsonl}, {@code .ndjson}, {@code .json}: one object a line, read as text so that each row
 * keeps its own JSON types, exactly as the HTTP API would receive it; blank lines are skipped), CSV ({@code .csv},
 * a header line naming the columns, RFC 4180 quoting, column types inferred, an empty cell is a missing value) or
 * Parquet ({@code .parquet}, a file or a folder of parts). A null column value is a missing field.
 */
final class Tables {
    private Tables() {}

    static JavaRDD<String> read(SparkSession spark, String table) {
        String uri = uri(table);
        String name = table.toLowerCase(Locale.ROOT).replaceAll("/+$", "");
        if (name.endsWith(".jsonl") || name.endsWith(".ndjson") || name.endsWith(".json")) {
            return spark.read().textFile(uri).javaRDD().filter(line -> !line.isBlank());
        }
        if (name.endsWith(".csv")) {
            return spark.read().option("header", "true").option("inferSchema", "true").option("multiLine", "true")
                    .option("escape", "\"").csv(uri).toJSON().javaRDD();
        }
        if (name.endsWith(".parquet")) {
            return spark.read().parquet(uri).toJSON().javaRDD();
        }
        throw new BadRequestException("--prompts " + table + ": the table must be JSON Lines (.jsonl), CSV (.csv) or "
                + "Parquet (.parquet), told by its extension");
    }

    /** A local path as a file: URI (checked to exist); a URI with a scheme (hdfs://, s3a://) as it is. */
    static String uri(String table) {
        if (table.matches("[A-Za-z][A-Za-z0-9+.-]*://.*")) {
            return table;
        }
        Path p = Path.of(table).toAbsolutePath().normalize();
        if (!Files.exists(p)) {
            throw new BadRequestException("--prompts " + table + ": no such file");
        }
        if (!Files.isReadable(p)) {
            throw new BadRequestException("--prompts " + table + ": not readable");
        }
        return p.toUri().toString();
    }
}
