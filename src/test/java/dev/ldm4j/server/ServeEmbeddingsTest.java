package dev.ldm4j.server;

import static dev.ldm4j.server.ApiServerTest.cli;
import static dev.ldm4j.server.ApiServerTest.clientBody;
import static dev.ldm4j.server.ApiServerTest.image;
import static dev.ldm4j.server.ApiServerTest.ok;
import static dev.ldm4j.server.ApiServerTest.post;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.Fixtures;
import dev.ldm4j.nn.Torch;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code serve --embd-dir}: the embeddings endpoint lists them, and a prompt naming one gets the CLI's pixels. */
class ServeEmbeddingsTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeAll
    static void torch() {
        Torch.load();
    }

    @Test
    void embeddingsAreListedAndUsed(@TempDir Path dir) throws Exception {
        Path embd = Path.of(ServeEmbeddingsTest.class.getResource("/dev/ldm4j/text/ti/sd1").toURI());
        try (ApiServer server = ApiServer.load(new ApiServer.Settings("127.0.0.1", 0, 4,
                Fixtures.path("sd1-tiny/model.safetensors"), Fixtures.path("sd1-tiny/config.yaml"), null, null, null,
                ApiServer.DEFAULT_MAX_BODY_MB, embd, null))) {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                    + "/sdapi/v1/embeddings")).GET().build(), HttpResponse.BodyHandlers.ofString());
            JsonNode list = new ObjectMapper().readTree(r.body());
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(Set.of("a1111-apple", "concept", "emb-params", "legacy-cat"),
                    new TreeSet<>(iterable(list.path("loaded"))));
            assertEquals(2, list.path("loaded").path("a1111-apple").path("vectors").asInt());
            assertEquals(32, list.path("loaded").path("a1111-apple").path("shape").asInt());
            assertEquals(Set.of("broken", "wrong-width"), new TreeSet<>(iterable(list.path("skipped"))));

            JsonNode served = ok(post(server, "/sdapi/v1/txt2img", clientBody("a1111-apple on a table", 5, 2, 64,
                    "Euler")));
            assertArrayEquals(cli(dir, List.of("-p", "red apple on a table", "-s", "5", "--steps", "2",
                    "--sampling-method", "euler", "--scheduler", "discrete", "--cfg-scale", "7.5", "-W", "64", "-H",
                    "64")).pixels(), image(served.path("images").get(0).asText()).pixels());
        }
    }

    private static Set<String> iterable(JsonNode object) {
        Set<String> names = new TreeSet<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
