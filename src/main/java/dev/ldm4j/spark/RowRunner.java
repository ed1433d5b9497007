package dev.ldm4j.spark;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.ImageFileException;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.pipeline.GenerationRequest;
import dev.ldm4j.pipeline.GenerationResult;
import dev.ldm4j.pipeline.Parameters;
import dev.ldm4j.sampling.StepListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.util.LongAccumulator;

/**
 * The work of one task, on an executor: each row of the partition becomes {@code images/<id>.png} (written
 * atomically, with its AUTOMATIC1111 {@code parameters} text, exactly as {@code ldm4j generate} writes it) and a
 * result row. A row whose image exists is skipped (a rerun resumes); a row that fails is recorded with its error
 * and the others go on. Only a failure of the executor itself (the model does not load, out of memory) fails the
 * task, which Spark then retries.
 */
final class RowRunner implements FlatMapFunction<Iterator<BatchRow>, Row> {
    private final BatchSpec spec;
    private final LongAccumulator done;
    private final LongAccumulator skipped;
    private final LongAccumulator failed;

    RowRunner(BatchSpec spec, LongAccumulator done, LongAccumulator skipped, LongAccumulator failed) {
        this.spec = spec;
        this.done = done;
        this.skipped = skipped;
        this.failed = failed;
    }

    @Override
    public Iterator<Row> call(Iterator<BatchRow> rows) throws Exception {
        ObjectMapper json = new ObjectMapper();
        Path images = spec.imagesDir();
        Files.createDirectories(images);
        TaskContext task = TaskContext.get();
        int threads = task == null ? 1 : task.cpus();
        ExecutorModel.Key key = new ExecutorModel.Key(spec.model(), spec.config());
        List<Row> out = new ArrayList<>();
        while (rows.hasNext()) {
            Row result = run(rows.next(), json, images, key, threads);
            out.add(result);
            done.add(1);
            String status = result.getString(2);
            if (status.equals(Results.SKIPPED)) {
                skipped.add(1);
            } else if (status.equals(Results.FAILED)) {
                failed.add(1);
            }
        }
        return out.iterator();
    }

    private Row run(BatchRow in, ObjectMapper json, Path images, ExecutorModel.Key key, int threads) {
        if (in.error() != null) {
            return Results.of(in, Results.FAILED, null, null, null, null, null, in.error());
        }
        JsonNode row;
        try {
            row = json.readTree(in.json());
        } catch (JsonProcessingException e) {
            return Results.of(in, Results.FAILED, null, null, null, null, null, "not a JSON object: "
                    + e.getOriginalMessage());
        }
        Path image = images.resolve(in.id() + ".png");
        String relative = "images/" + in.id() + ".png";
        GenerationRequest request;
        try {
            request = RowRequests.request(row, in.id(), spec.defaults());
        } catch (BadRequestException e) {
            return Results.of(in, Results.FAILED, null, RowRequests.seedOrNull(row, in.id(), spec.defaults()), null,
                    null, null, e.getMessage());
        }
        if (Files.isRegularFile(image)) {
            return Results.of(in, Results.SKIPPED, request, null, existingParameters(image), relative, null, null);
        }
        long t0 = System.nanoTime();
        try {
            String parameters = ExecutorModel.run(key, threads, generator -> {
                generator.validate(request);
                try (GenerationResult result = generator.generate(request, StepListener.NONE)) {
                    RgbImage rgb = ImageTensors.toRgb8(result.images()).get(0);
                    String text = Parameters.a1111(request, generator.model().name());
                    Images.writePng(image, rgb, Map.of(Images.PARAMETERS, text));
                    return text;
                }
            });
            return Results.of(in, Results.GENERATED, request, null, parameters, relative, seconds(t0), null);
        } catch (ExecutorModel.LoadFailure e) {
            throw e;
        } catch (BadRequestException e) {
            return Results.of(in, Results.FAILED, request, null, null, null, seconds(t0), e.getMessage());
        } catch (RuntimeException e) {
            // a failed generation (not finite, a native error) is this row's: the next row may well succeed
            String message = e.getMessage() == null ? "" : e.getMessage().strip().lines().findFirst().orElse("");
            return Results.of(in, Results.FAILED, request, null, null, null, seconds(t0),
                    e.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message));
        }
    }

    /** The parameters text of an image a former run wrote (null when it cannot be read). */
    private static String existingParameters(Path image) {
        try {
            return Images.readText(image).get(Images.PARAMETERS);
        } catch (ImageFileException e) {
            return null;
        }
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
