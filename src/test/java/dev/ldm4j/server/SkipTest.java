package dev.ldm4j.server;

import static dev.ldm4j.server.ApiServerTest.clientBody;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** {@code /sdapi/v1/skip}: the running iteration is dropped and the job goes on with the next, as A1111's. */
class SkipTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void skipDropsTheRunningIterationOnly() throws Exception {
        try (TinyServer server = TinyServer.start()) {
            String base = "http://127.0.0.1:" + server.port();
            ObjectNode body = clientBody("two iterations", 40, 200, 64, "Euler").put("n_iter", 2);
            CompletableFuture<HttpResponse<String>> answer = HTTP.sendAsync(HttpRequest.newBuilder(
                    URI.create(base + "/sdapi/v1/txt2img")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
                    HttpResponse.BodyHandlers.ofString());
            long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
            while (System.nanoTime() < deadline) {
                JsonNode p = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create(base
                        + "/sdapi/v1/progress?skip_current_image=true")).build(),
                        HttpResponse.BodyHandlers.ofString()).body()).path("state");
                if (p.path("job_no").asInt() == 0 && p.path("sampling_step").asInt() > 0) {
                    break;
                }
                Thread.sleep(10);
            }
            HTTP.send(HttpRequest.newBuilder(URI.create(base + "/sdapi/v1/skip"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> r = answer.get();
            assertEquals(200, r.statusCode(), r.body());
            JsonNode done = JSON.readTree(r.body());
            JsonNode info = JSON.readTree(done.path("info").asText());
            assertEquals(1, done.path("images").size(), "the second iteration's image only: " + info);
            assertEquals(41, info.path("all_seeds").get(0).asLong(), "iteration 1 is seeded seed + 1");
            assertFalse(info.path("interrupted").asBoolean());
        }
    }
}
