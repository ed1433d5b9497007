package dev.ldm4j.server;

import static dev.ldm4j.server.ApiServerTest.clientBody;
import static dev.ldm4j.server.ApiServerTest.image;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.Fixtures;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.nn.Torch;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code serve --preview-taesd}: the running job's current_image is TAESD's decode, at the image's size. */
class PreviewTaesdTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void theTaesdPreviewIsShownWhileTheJobRuns() throws Exception {
        Torch.load();
        try (ApiServer server = ApiServer.load(new ApiServer.Settings("127.0.0.1", 0, 4,
                Fixtures.path("sd1-tiny/model.safetensors"), Fixtures.path("sd1-tiny/config.yaml"), null, null, null,
                ApiServer.DEFAULT_MAX_BODY_MB, null, Fixtures.path("taesd/taesd_decoder.safetensors")))) {
            String base = "http://127.0.0.1:" + server.port();
            HttpResponse<String> job = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/ldm4j/v1/jobs"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                            JSON.writeValueAsString(clientBody("a cat", 1, 3000, 64, "Euler")))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(202, job.statusCode(), job.body());
            String id = JSON.readTree(job.body()).path("id").asText();
            RgbImage preview = null;
            long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
            while (preview == null && System.nanoTime() < deadline) {
                JsonNode p = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create(base + "/sdapi/v1/progress"))
                        .build(), HttpResponse.BodyHandlers.ofString()).body());
                if (p.hasNonNull("current_image")) {
                    preview = image(p.path("current_image").asText());
                }
                Thread.sleep(20);
            }
            HTTP.send(HttpRequest.newBuilder(URI.create(base + "/ldm4j/v1/jobs/" + id)).DELETE().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(64, preview == null ? -1 : preview.width());
            assertEquals(64, preview.height());
        }
    }
}
