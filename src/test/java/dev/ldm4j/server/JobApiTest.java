package dev.ldm4j.server;

import static dev.ldm4j.server.ApiServerTest.cli;
import static dev.ldm4j.server.ApiServerTest.clientBody;
import static dev.ldm4j.server.ApiServerTest.image;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ldm4j.io.RgbImage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ldm4j job API: submit, poll, the event stream with previews, cancel (queued and running), bad ids. */
class JobApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private static TinyServer server;

    @BeforeAll
    static void start() {
        server = TinyServer.start();
    }

    @AfterAll
    static void stop() {
        TinyServer.close(server);
    }

    private static HttpResponse<String> send(String method, String path, JsonNode body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofMinutes(2));
        b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode submit(ObjectNode body) throws Exception {
        HttpResponse<String> r = send("POST", "/ldm4j/v1/jobs", body);
        assertEquals(202, r.statusCode(), r.body());
        JsonNode job = JSON.readTree(r.body());
        assertEquals("/ldm4j/v1/jobs/" + job.path("id").asText(), r.headers().firstValue("Location").orElse(""));
        return job;
    }

    private static JsonNode job(String id) throws Exception {
        HttpResponse<String> r = send("GET", "/ldm4j/v1/jobs/" + id, null);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private static JsonNode await(String id, Predicate<JsonNode> until) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode j = job(id);
            if (until.test(j)) {
                return j;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("job " + id + " never reached the state asked for: " + job(id));
    }

    @Test
    void aJobGivesTheCliImage(@TempDir Path dir) throws Exception {
        JsonNode created = submit(clientBody("a red apple", 11, 4, 64, "Euler"));
        assertTrue(List.of("queued", "running").contains(created.path("state").asText()), created.toString());
        JsonNode done = await(created.path("id").asText(), j -> j.path("state").asText().equals("done"));
        assertEquals(1.0, done.path("progress").path("fraction").asDouble());
        assertNotNull(done.path("finished").asText(null));
        RgbImage mine = cli(dir, List.of("-p", "a red apple", "-s", "11", "--steps", "4", "--sampling-method",
                "euler", "--scheduler", "discrete", "--cfg-scale", "7.5", "-W", "64", "-H", "64"));
        assertArrayEquals(mine.pixels(), image(done.path("result").path("images").get(0).asText()).pixels());
        assertTrue(done.path("result").path("info").isTextual(), "info is A1111's JSON string");
    }

    @Test
    void theEventStreamShowsProgressWithPreviewsThenTheResult() throws Exception {
        JsonNode created = submit(clientBody("a house", 3, 60, 64, "Euler"));
        HttpResponse<Stream<String>> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + server.port() + "/ldm4j/v1/jobs/" + created.path("id").asText() + "/events"))
                .header("Accept", "text/event-stream").build(),
                HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"),
                r.headers().map().toString());
        List<String> events = new ArrayList<>();
        List<JsonNode> data = new ArrayList<>();
        String event = null;
        for (String line : (Iterable<String>) r.body()::iterator) {
            if (line.startsWith("event:")) {
                event = line.substring(6).strip();
            } else if (line.startsWith("data:")) {
                events.add(event);
                data.add(JSON.readTree(line.substring(5).strip()));
            }
        }
        assertEquals("done", events.get(events.size() - 1), events.toString());
        JsonNode last = data.get(data.size() - 1);
        assertEquals(1, last.path("result").path("images").size());
        int previews = 0;
        int lastStep = 0;
        for (int i = 0; i < events.size() - 1; i++) {
            assertEquals("progress", events.get(i));
            int step = data.get(i).path("progress").path("step").asInt();
            assertTrue(step >= lastStep, "steps only go forward: " + events);
            lastStep = step;
            if (data.get(i).has("preview")) {
                RgbImage p = image(data.get(i).path("preview").asText());
                // a decode of the step's prediction: the image's size
                assertEquals(64, p.width());
                assertEquals(64, p.height());
                previews++;
            }
        }
        assertTrue(previews >= 1, "no preview in " + events.size() + " events");
    }

    @Test
    void cancelStopsTheRunningJobAndTheQueuedOneNeverRuns() throws Exception {
        JsonNode running = submit(clientBody("a long job", 1, 400, 64, "Euler"));
        JsonNode queued = submit(clientBody("never runs", 2, 4, 64, "Euler"));
        String runningId = running.path("id").asText();
        await(runningId, j -> j.path("state").asText().equals("running") && j.path("progress").path("step").asInt() > 0);
        JsonNode waiting = job(queued.path("id").asText());
        assertEquals("queued", waiting.path("state").asText());
        assertEquals(0, waiting.path("queue_position").asInt());

        // the preview A1111's progress route shows while a job runs, and not when the client skips it
        JsonNode withImage = JSON.readTree(send("GET", "/sdapi/v1/progress", null).body());
        assertFalse(JSON.readTree(send("GET", "/sdapi/v1/progress?skip_current_image=true", null).body())
                .hasNonNull("current_image"));
        JsonNode again = withImage.hasNonNull("current_image") ? withImage
                : await2(() -> JSON.readTree(send("GET", "/sdapi/v1/progress", null).body()));
        assertEquals(64, image(again.path("current_image").asText()).width());

        HttpResponse<String> c1 = send("DELETE", "/ldm4j/v1/jobs/" + queued.path("id").asText(), null);
        assertEquals(200, c1.statusCode(), c1.body());
        assertEquals("cancelled", JSON.readTree(c1.body()).path("state").asText());
        HttpResponse<String> c2 = send("DELETE", "/ldm4j/v1/jobs/" + runningId, null);
        assertEquals(200, c2.statusCode(), c2.body());
        JsonNode stopped = await(runningId, j -> j.path("state").asText().equals("cancelled"));
        assertEquals(0, stopped.path("result").path("images").size(), "stopped in its only iteration");
        assertTrue(stopped.path("result").path("info").asText().contains("\"interrupted\":true"));
        JsonNode never = job(queued.path("id").asText());
        assertEquals("cancelled", never.path("state").asText());
        assertTrue(never.path("started").isNull(), never.toString());
    }

    private interface Poll {
        JsonNode get() throws Exception;
    }

    /** The progress answer once it carries a current image (the first steps after the first ask make one). */
    private static JsonNode await2(Poll poll) throws Exception {
        for (int i = 0; i < 500; i++) {
            JsonNode p = poll.get();
            if (p.hasNonNull("current_image")) {
                return p;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no current_image while a job ran");
    }

    @Test
    void unknownJobsAndBadBodiesAreAnswered() throws Exception {
        HttpResponse<String> missing = send("GET", "/ldm4j/v1/jobs/no-such-job", null);
        assertEquals(404, missing.statusCode());
        assertTrue(missing.body().contains("no-such-job"), missing.body());
        assertEquals(404, send("DELETE", "/ldm4j/v1/jobs/no-such-job", null).statusCode());
        assertEquals(404, send("GET", "/ldm4j/v1/jobs/no-such-job/events", null).statusCode());
        ObjectNode bad = clientBody("x", 1, 2, 64, "Euler").put("task", "upscale");
        HttpResponse<String> r = send("POST", "/ldm4j/v1/jobs", bad);
        assertEquals(422, r.statusCode());
        assertTrue(r.body().contains("task"), r.body());
        HttpResponse<String> sampler = send("POST", "/ldm4j/v1/jobs", clientBody("x", 1, 2, 64, "No Such Sampler"));
        // the sampler is checked on the worker: the job is accepted and fails with the field named
        assertEquals(202, sampler.statusCode(), sampler.body());
        JsonNode failed = await(JSON.readTree(sampler.body()).path("id").asText(),
                j -> j.path("state").asText().equals("failed"));
        assertEquals(422, failed.path("status").asInt());
        assertTrue(failed.path("error").path("detail").asText().toLowerCase().contains("sampler"), failed.toString());
    }
}
