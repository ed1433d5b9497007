package dev.ldm4j.server;

import static dev.ldm4j.server.ApiServerTest.clientBody;
import static dev.ldm4j.server.ApiServerTest.image;
import static dev.ldm4j.server.ApiServerTest.ok;
import static dev.ldm4j.server.ApiServerTest.post;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ldm4j.Fixtures;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.nn.Torch;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ldm4j serve --models-dir}: listing the checkpoints of a folder, switching between them (by options and
 * by a request's override_settings), refusing names that are paths, and rescanning.
 */
class ModelSwitchTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeAll
    static void torch() {
        Torch.load();
    }

    /** sd1-tiny as a.safetensors and sd2-tiny as b.safetensors, each with its NAME.yaml beside it. */
    static Path modelsDir(Path dir) throws Exception {
        Files.createDirectories(dir);
        copy("sd1-tiny", dir, "a");
        copy("sd2-tiny", dir, "b");
        Files.writeString(dir.resolve("notes.txt"), "not a model");
        return dir;
    }

    private static void copy(String fixture, Path dir, String name) throws Exception {
        Files.copy(Fixtures.path(fixture + "/model.safetensors"), dir.resolve(name + ".safetensors"));
        Files.copy(Fixtures.path(fixture + "/config.yaml"), dir.resolve(name + ".yaml"));
    }

    static JsonNode get(ApiServer s, String path) throws Exception {
        return ok(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString()));
    }

    private static ObjectNode body(long seed) throws Exception {
        return clientBody("a photograph of an astronaut riding a horse", seed, 3, 64, "DDIM");
    }

    @Test
    void listsTheFolderAndSwitchesBetweenItsModels(@TempDir Path dir) throws Exception {
        Path models = modelsDir(dir);
        try (ApiServer server = ApiServer.load(new ApiServer.Settings("127.0.0.1", 0, 4, null, null, models, null,
                null, ApiServer.DEFAULT_MAX_BODY_MB))) {
            JsonNode list = get(server, "/sdapi/v1/sd-models");
            assertEquals(2, list.size(), list.toString());
            JsonNode a = list.get(0);
            assertEquals("a", a.path("model_name").asText());
            assertEquals("a.safetensors [" + a.path("hash").asText() + "]", a.path("title").asText());
            assertEquals(64, a.path("sha256").asText().length(), "the served model's hash is known");
            assertTrue(a.path("config").asText().endsWith("a.yaml"), a.toString());
            assertEquals("b", list.get(1).path("model_name").asText());
            assertEquals(a.path("title").asText(), get(server, "/sdapi/v1/options").path("sd_model_checkpoint").asText());

            JsonNode first = ok(post(server, "/sdapi/v1/txt2img", body(42)));
            assertEquals("a", JSON.readTree(first.path("info").asText()).path("sd_model_name").asText());

            ok(post(server, "/sdapi/v1/options", JSON.createObjectNode().put("sd_model_checkpoint", "b.safetensors")));
            String title = get(server, "/sdapi/v1/options").path("sd_model_checkpoint").asText();
            assertTrue(title.startsWith("b.safetensors ["), title);
            JsonNode second = ok(post(server, "/sdapi/v1/txt2img", body(42)));
            assertEquals("b", JSON.readTree(second.path("info").asText()).path("sd_model_name").asText());
            assertFalse(Arrays.equals(image(first.path("images").get(0).asText()).pixels(),
                    image(second.path("images").get(0).asText()).pixels()), "another model, another image");

            // a request may name its model; the title as listed works as the file name does
            ObjectNode back = body(42);
            back.putObject("override_settings").put("sd_model_checkpoint", a.path("title").asText());
            JsonNode third = ok(post(server, "/sdapi/v1/txt2img", back));
            assertArrayEquals(image(first.path("images").get(0).asText()).pixels(),
                    image(third.path("images").get(0).asText()).pixels(), "the first model again, reloaded");
            assertTrue(get(server, "/sdapi/v1/options").path("sd_model_checkpoint").asText().startsWith("a.safetensors"));
        }
    }

    @Test
    void namesThatArePathsOrUnknownAre422AndRefreshFindsNewFiles(@TempDir Path dir) throws Exception {
        Path models = Files.createDirectory(dir.resolve("models"));
        copy("sd1-tiny", models, "a");
        copy("sd2-tiny", dir, "outside");
        try (ApiServer server = ApiServer.load(new ApiServer.Settings("127.0.0.1", 0, 4, null, null, models, null,
                null, ApiServer.DEFAULT_MAX_BODY_MB))) {
            for (String name : List.of("../outside.safetensors", dir.resolve("outside.safetensors").toString(),
                    "models/a.safetensors", "..", "nope.safetensors", "outside.safetensors")) {
                HttpResponse<String> r = post(server, "/sdapi/v1/options",
                        JSON.createObjectNode().put("sd_model_checkpoint", name));
                assertEquals(422, r.statusCode(), name + ": " + r.body());
                assertTrue(r.body().contains("sd_model_checkpoint"), r.body());
                ObjectNode override = body(1);
                override.putObject("override_settings").put("sd_model_checkpoint", name);
                assertEquals(422, post(server, "/sdapi/v1/txt2img", override).statusCode(), name);
            }
            assertEquals(1, get(server, "/sdapi/v1/sd-models").size());
            copy("sd2-tiny", models, "b");
            assertEquals(1, get(server, "/sdapi/v1/sd-models").size(), "listed from the last scan");
            ok(post(server, "/sdapi/v1/refresh-checkpoints", JSON.createObjectNode()));
            JsonNode list = get(server, "/sdapi/v1/sd-models");
            assertEquals(2, list.size(), list.toString());
            assertTrue(list.get(1).path("hash").isNull(), "a model not yet loaded is not hashed by a listing");
            ok(post(server, "/sdapi/v1/options", JSON.createObjectNode().put("sd_model_checkpoint", "b")));
        }
    }

    @Test
    void subfoldersAreListedByTheirPathAsAutomatic1111Does(@TempDir Path dir) throws Exception {
        Path models = Files.createDirectory(dir.resolve("models"));
        copy("sd1-tiny", models, "a");
        copy("sd2-tiny", Files.createDirectories(models.resolve("sd2")), "b");
        copy("sd2-tiny", Files.createDirectories(models.resolve(".cache")), "hidden");
        try (ApiServer server = ApiServer.load(new ApiServer.Settings("127.0.0.1", 0, 4, null, null, models, null,
                null, ApiServer.DEFAULT_MAX_BODY_MB))) {
            JsonNode list = get(server, "/sdapi/v1/sd-models");
            assertEquals(2, list.size(), "hidden folders are not searched: " + list);
            assertEquals("sd2/b.safetensors", list.get(1).path("title").asText(), "not hashed before it is loaded");
            assertEquals("sd2_b", list.get(1).path("model_name").asText());
            assertTrue(list.get(1).path("config").asText().endsWith("b.yaml"), list.toString());

            for (String name : List.of("sd2/b.safetensors", "sd2_b", "b")) {
                ok(post(server, "/sdapi/v1/options", JSON.createObjectNode().put("sd_model_checkpoint", "a")));
                ok(post(server, "/sdapi/v1/options", JSON.createObjectNode().put("sd_model_checkpoint", name)));
                String title = get(server, "/sdapi/v1/options").path("sd_model_checkpoint").asText();
                assertTrue(title.startsWith("sd2/b.safetensors ["), name + " -> " + title);
            }
            for (String name : List.of("sd2/../a.safetensors", "/sd2/b.safetensors", "sd2\\b.safetensors",
                    ".cache/hidden.safetensors")) {
                HttpResponse<String> r = post(server, "/sdapi/v1/options",
                        JSON.createObjectNode().put("sd_model_checkpoint", name));
                assertEquals(422, r.statusCode(), name + ": " + r.body());
            }
        }
    }

    @Test
    void aServedModelGivenWithMIsListedBesideTheFolder(@TempDir Path dir) throws Exception {
        Path models = modelsDir(dir.resolve("m"));
        try (ApiServer server = ApiServer.load(new ApiServer.Settings("127.0.0.1", 0, 4,
                Fixtures.path("sd1-tiny/model.safetensors"), Fixtures.path("sd1-tiny/config.yaml"), models, null,
                null, ApiServer.DEFAULT_MAX_BODY_MB))) {
            JsonNode list = get(server, "/sdapi/v1/sd-models");
            assertEquals(3, list.size(), list.toString());
            assertEquals("model", list.get(0).path("model_name").asText());
            RgbImage before = image(ok(post(server, "/sdapi/v1/txt2img", body(5))).path("images").get(0).asText());
            ok(post(server, "/sdapi/v1/options", JSON.createObjectNode().put("sd_model_checkpoint", "a.safetensors")));
            // a.safetensors is a copy of the -m model: the same pixels after the switch
            RgbImage after = image(ok(post(server, "/sdapi/v1/txt2img", body(5))).path("images").get(0).asText());
            assertArrayEquals(before.pixels(), after.pixels());
        }
    }
}
