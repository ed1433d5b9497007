package dev.ldm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.Images;
import dev.ldm4j.spark.BatchSession;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ldm4j batch} in local mode on the tiny SD 1.x model: every image is the one {@code ldm4j generate} makes
 * for the row's parameters, byte for byte; results.parquet says what happened to each row; a rerun generates
 * nothing; a rerun after deleting images makes exactly those again; bad rows fail alone. One Spark session serves
 * the class (the CLI finds it running and leaves it running).
 */
class BatchCliTest {
    /** A tiny model's image takes well under a second, so the test stays short even with Spark around it. */
    private static final String SIZE = "32";
    private static final String STEPS = "2";

    private static BatchSession spark;
    private static int threads;

    @BeforeAll
    static void startSpark() {
        Fixtures.path("sd1-tiny/model.safetensors");
        threads = Math.min(2, Runtime.getRuntime().availableProcessors());
        spark = BatchSession.open("local[" + threads + "]", Map.of());
    }

    @AfterAll
    static void stopSpark() {
        if (spark != null) {
            spark.close();
        }
    }

    record Run(int code, String err) {}

    private static Run cli(String... args) {
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), args);
        return new Run(code, err.toString());
    }

    private static String[] batch(Path table, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("batch",
                "-m", Fixtures.path("sd1-tiny/model.safetensors").toString(),
                "--config", Fixtures.path("sd1-tiny/config.yaml").toString(),
                "--prompts", table.toString(), "-o", out.toString(), "--master", "local[" + threads + "]",
                "--seed", "7", "--steps", STEPS, "-W", SIZE, "-H", SIZE));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    /** results.parquet as maps of column to value, in row order. */
    private static List<Map<String, Object>> results(Path out) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Row r : spark.session().read().parquet(out.resolve("results.parquet").toString()).orderBy("row")
                .collectAsList()) {
            Map<String, Object> m = new HashMap<>();
            for (String f : r.schema().fieldNames()) {
                m.put(f, r.isNullAt(r.fieldIndex(f)) ? null : r.get(r.fieldIndex(f)));
            }
            rows.add(m);
        }
        return rows;
    }

    private static final List<String> TABLE = List.of(
            "{\"id\": \"apple\", \"prompt\": \"a red apple\", \"seed\": 1}",
            "{\"prompt\": \"a blue sky\", \"steps\": 3, \"sampler_name\": \"DPM++ 2M\", \"scheduler\": \"Karras\"}",
            "{\"id\": \"tree\", \"prompt\": \"a green tree\", \"sampler_name\": \"no such sampler\"}",
            "{\"id\": \"cat\", \"prompt\": \"a cat\", \"width\": 63}",
            "{\"id\": \"dog\", \"prompt\": \"a dog\", \"sampler_name\": \"ddim\", \"cfg_scale\": 5, "
                    + "\"negative_prompt\": \"blurry\"}",
            "{\"id\": \"house\", \"prompt\": \"a house\", \"seed\": 12345, \"width\": 64, \"height\": 32}",
            "{\"id\": \"sun\", \"prompt\": \"the sun\", \"sampler_name\": \"ddim\", \"eta\": 0.5, \"seed\": -1}",
            "{\"prompt\": \"a boat\", \"sampler_name\": \"Euler\"}");
    private static final List<String> IDS = List.of("apple", "2", "tree", "cat", "dog", "house", "sun", "8");
    private static final List<String> FAILING = List.of("tree", "cat");

    @Test
    void imagesEqualGeneratesARerunResumesAndBadRowsFailAlone(@TempDir Path dir) throws IOException {
        Path table = dir.resolve("prompts.jsonl");
        Files.write(table, TABLE);
        Path out = dir.resolve("out");

        Run first = cli(batch(table, out, "--partitions", "2"));
        assertEquals(BatchCommand.ROWS_FAILED, first.code(), first.err());
        assertTrue(first.err().contains("8 rows: 6 generated, 0 skipped (image exists), 2 failed"), first.err());
        assertTrue(first.err().contains("batch: 8/8 rows"), first.err());
        assertFalse(first.err().contains("INFO") && first.err().contains("spark"), "Spark's log stays quiet:\n" + first.err());

        List<Map<String, Object>> rows = results(out);
        assertEquals(IDS.size(), rows.size());
        List<Long> derived = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            Map<String, Object> r = rows.get(i);
            String id = IDS.get(i);
            assertEquals((long) (i + 1), r.get("row"));
            assertEquals(id, r.get("id"));
            assertEquals(TABLE.get(i), r.get("request"), "the row as given");
            if (FAILING.contains(id)) {
                assertEquals("failed", r.get("status"));
                assertNull(r.get("image"));
                assertFalse(Files.exists(out.resolve("images/" + id + ".png")));
                continue;
            }
            assertEquals("generated", r.get("status"), id + ": " + r.get("error"));
            assertNull(r.get("error"));
            assertEquals("images/" + id + ".png", r.get("image"));
            assertTrue((Double) r.get("seconds") > 0);
            Path image = out.resolve((String) r.get("image"));
            assertEquals(r.get("parameters"), Images.readText(image).get(Images.PARAMETERS));
            long seed = (Long) r.get("seed");
            assertTrue(seed >= 0 && seed <= 0xffffffffL, "an A1111 seed: " + seed);
            if (!TABLE.get(i).contains("\"seed\": ") || TABLE.get(i).contains("\"seed\": -1")) {
                derived.add(seed);
            }

            // the image ldm4j generate makes for the row's parameters, with the task's thread count
            Path reference = dir.resolve("generate-" + id + ".png");
            Run g = cli("generate", "-m", Fixtures.path("sd1-tiny/model.safetensors").toString(),
                    "--config", Fixtures.path("sd1-tiny/config.yaml").toString(),
                    "-p", (String) r.get("prompt"), "-n", (String) r.get("negative_prompt"), "-s", Long.toString(seed),
                    "--steps", r.get("steps").toString(), "--cfg-scale", r.get("cfg_scale").toString(),
                    "--sampling-method", (String) r.get("sampler_name"), "--scheduler", (String) r.get("scheduler"),
                    "--eta", r.get("eta").toString(), "-W", r.get("width").toString(), "-H", r.get("height").toString(),
                    "-t", Integer.toString(threads), "-o", reference.toString());
            assertEquals(0, g.code(), g.err());
            assertArrayEquals(Images.readRgb(reference).pixels(), Images.readRgb(image).pixels(), id + ": pixels");
            assertEquals(-1, Files.mismatch(reference, image), id + ": the PNG files, text chunk included");
        }
        // the table's own values and the CLI's defaults
        assertEquals(1L, rows.get(0).get("seed"));
        assertEquals(12345L, rows.get(5).get("seed"));
        assertEquals(64, rows.get(5).get("width"));
        assertEquals(Integer.parseInt(STEPS), rows.get(0).get("steps"));
        assertEquals(3, rows.get(1).get("steps"));
        assertEquals("dpm++2m", rows.get(1).get("sampler_name"));
        assertEquals("karras", rows.get(1).get("scheduler"));
        assertEquals(4, derived.size(), "2, dog, sun (-1) and 8 name no seed");
        assertEquals(4, derived.stream().distinct().count(), "rows without a seed get different ones: " + derived);
        assertTrue(((String) rows.get(2).get("error")).contains("unknown sampler 'no such sampler'"),
                (String) rows.get(2).get("error"));
        assertTrue(((String) rows.get(3).get("error")).contains("multiples of 8"), (String) rows.get(3).get("error"));

        // a rerun finds every image and generates nothing
        Map<String, byte[]> bytes = new HashMap<>();
        Map<String, FileTime> times = new HashMap<>();
        for (String id : IDS) {
            Path p = out.resolve("images/" + id + ".png");
            if (Files.exists(p)) {
                bytes.put(id, Files.readAllBytes(p));
                times.put(id, Files.getLastModifiedTime(p));
            }
        }
        Run second = cli(batch(table, out, "--partitions", "2"));
        assertEquals(BatchCommand.ROWS_FAILED, second.code(), second.err());
        assertTrue(second.err().contains("8 rows: 0 generated, 6 skipped (image exists), 2 failed"), second.err());
        for (Map<String, Object> r : results(out)) {
            String id = (String) r.get("id");
            assertEquals(FAILING.contains(id) ? "failed" : "skipped", r.get("status"), id);
            if (!FAILING.contains(id)) {
                assertEquals(times.get(id), Files.getLastModifiedTime(out.resolve("images/" + id + ".png")), id);
                assertEquals(Images.readText(out.resolve("images/" + id + ".png")).get(Images.PARAMETERS),
                        r.get("parameters"), id);
            }
        }

        // two images deleted: exactly those two are made again, the same bytes
        Files.delete(out.resolve("images/apple.png"));
        Files.delete(out.resolve("images/2.png"));
        Run third = cli(batch(table, out, "--partitions", "3"));
        assertEquals(BatchCommand.ROWS_FAILED, third.code(), third.err());
        for (Map<String, Object> r : results(out)) {
            String id = (String) r.get("id");
            String expected = FAILING.contains(id) ? "failed" : id.equals("apple") || id.equals("2") ? "generated" : "skipped";
            assertEquals(expected, r.get("status"), id);
        }
        for (String id : bytes.keySet()) {
            assertArrayEquals(bytes.get(id), Files.readAllBytes(out.resolve("images/" + id + ".png")), id);
            if (!id.equals("apple") && !id.equals("2")) {
                assertEquals(times.get(id), Files.getLastModifiedTime(out.resolve("images/" + id + ".png")), id);
            }
        }
    }

    @Test
    void csvAndParquetTablesAreReadLikeJsonLines(@TempDir Path dir) throws IOException {
        Path jsonl = dir.resolve("t.jsonl");
        Files.write(jsonl, List.of("{\"id\": \"q1\", \"prompt\": \"a \\\"quoted\\\", comma\", \"seed\": 3}",
                "{\"id\": \"q2\", \"prompt\": \"two\", \"steps\": 3}"));
        Path csv = dir.resolve("t.csv");
        Files.write(csv, List.of("id,prompt,seed,steps", "q1,\"a \"\"quoted\"\", comma\",3,", "q2,two,,3"));
        Path parquet = dir.resolve("t.parquet");
        spark.session().read().option("header", "true").option("inferSchema", "true").option("escape", "\"")
                .csv(csv.toString()).write().parquet(parquet.toString());
        Map<String, Path> outs = Map.of("jsonl", jsonl, "csv", csv, "parquet", parquet);
        for (Map.Entry<String, Path> e : outs.entrySet()) {
            Run r = cli(batch(e.getValue(), dir.resolve("out-" + e.getKey())));
            assertEquals(0, r.code(), e.getKey() + ": " + r.err());
        }
        for (String id : List.of("q1", "q2")) {
            byte[] expected = Files.readAllBytes(dir.resolve("out-jsonl/images/" + id + ".png"));
            assertArrayEquals(expected, Files.readAllBytes(dir.resolve("out-csv/images/" + id + ".png")), "csv " + id);
            assertArrayEquals(expected, Files.readAllBytes(dir.resolve("out-parquet/images/" + id + ".png")),
                    "parquet " + id);
        }
        Map<String, Object> q1 = results(dir.resolve("out-csv")).get(0);
        assertEquals("a \"quoted\", comma", q1.get("prompt"));
        assertEquals(3L, q1.get("seed"));
        assertNotEquals(q1.get("seed"), results(dir.resolve("out-csv")).get(1).get("seed"));
    }

    @Test
    void badInvocationsAreOneLineErrors(@TempDir Path dir) throws IOException {
        Run missing = cli(batch(dir.resolve("nope.jsonl"), dir.resolve("out")));
        assertEquals(2, missing.code(), missing.err());
        assertTrue(missing.err().contains("ldm4j: error: --prompts ") && missing.err().contains("no such file"),
                missing.err());
        Path txt = dir.resolve("t.txt");
        Files.writeString(txt, "x\n");
        Run format = cli(batch(txt, dir.resolve("out")));
        assertEquals(2, format.code(), format.err());
        assertTrue(format.err().contains("JSON Lines (.jsonl), CSV (.csv) or Parquet"), format.err());
        Path dup = dir.resolve("dup.jsonl");
        Files.write(dup, List.of("{\"id\": \"x\", \"prompt\": \"a\"}", "{\"id\": \"x\", \"prompt\": \"b\"}"));
        Run repeated = cli(batch(dup, dir.resolve("out")));
        assertEquals(2, repeated.code(), repeated.err());
        assertTrue(repeated.err().contains("ids must be unique") && repeated.err().contains("repeated: x"),
                repeated.err());
        assertFalse(Files.exists(dir.resolve("out/images/x.png")));
    }
}
