package dev.ldm4j.server;

import static dev.ldm4j.server.ApiServerTest.cli;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-request LoRA tags, the start-up listings clients call, {@code --api-auth} and the body size limit. */
class ServeLoraAndAuthTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeAll
    static void torch() {
        Torch.load();
    }

    private static ApiServer.Settings settings(Path loraDir, String auth, int maxBodyMb) {
        return new ApiServer.Settings("127.0.0.1", 0, 4, Fixtures.path("sd1-tiny/model.safetensors"),
                Fixtures.path("sd1-tiny/config.yaml"), null, loraDir, auth, maxBodyMb);
    }

    @Test
    void aLoraTagGivesTheCliPixelsAndARequestWithoutItThePlainModelAgain(@TempDir Path dir) throws Exception {
        JsonNode p = Fixtures.caseOf("lora", "seeded_ddim_lora_64x64").path("params");
        Path loraDir = Fixtures.path("lora/" + p.path("lora_model_dir").asText());
        String prompt = p.path("prompt").asText();
        List<String> common = List.of("-s", p.path("seed").asText(), "--steps", p.path("steps").asText(),
                "--sampling-method", "ddim", "--scheduler", "discrete", "--cfg-scale", p.path("cfg_scale").asText(),
                "-W", "64", "-H", "64");
        // the server finds the LoRA in a subfolder of its folder, as AUTOMATIC1111 does; the CLI, in its folder
        Path served = dir.resolve("loras");
        java.nio.file.Files.createDirectories(served.resolve("styles"));
        java.nio.file.Files.copy(loraDir.resolve("sd1_tiny_lora.safetensors"),
                served.resolve("styles/sd1_tiny_lora.safetensors"));
        try (ApiServer server = ApiServer.load(settings(served, null, ApiServer.DEFAULT_MAX_BODY_MB))) {
            JsonNode loras = get(server, "/sdapi/v1/loras", null);
            assertEquals(1, loras.size(), loras.toString());
            assertEquals("sd1_tiny_lora", loras.get(0).path("name").asText());
            assertTrue(loras.get(0).path("path").asText().endsWith("styles/sd1_tiny_lora.safetensors"),
                    loras.toString());
            assertTrue(loras.get(0).has("alias") && loras.get(0).has("path") && loras.get(0).has("metadata"));

            ObjectNode tagged = clientBody(prompt + " " + p.path("lora").asText(), p.path("seed").asLong(),
                    p.path("steps").asInt(), 64, "DDIM");
            JsonNode r = ok(post(server, "/sdapi/v1/txt2img", tagged));
            RgbImage withLora = cli(dir, concat(List.of("-p", prompt + " " + p.path("lora").asText(),
                    "--lora-model-dir", loraDir.toString()), common));
            assertArrayEquals(withLora.pixels(), image(r.path("images").get(0).asText()).pixels(),
                    "the served LoRA image differs from the CLI's");
            assertEquals(tagged, r.path("parameters"), "the body is echoed as sent, tags included");

            JsonNode plain = ok(post(server, "/sdapi/v1/txt2img", clientBody(prompt, p.path("seed").asLong(),
                    p.path("steps").asInt(), 64, "DDIM")));
            RgbImage mine = cli(dir, concat(List.of("-p", prompt), common));
            assertArrayEquals(mine.pixels(), image(plain.path("images").get(0).asText()).pixels(),
                    "without the tag the model is the checkpoint's own again");
            assertFalse(Arrays.equals(mine.pixels(), withLora.pixels()));

            HttpResponse<String> unknown = post(server, "/sdapi/v1/txt2img",
                    clientBody(prompt + " <lora:no_such_lora:1> <lora:other:0.5>", 1, 2, 64, "DDIM"));
            assertEquals(422, unknown.statusCode(), unknown.body());
            assertTrue(unknown.body().contains("no_such_lora") && unknown.body().contains("other"), unknown.body());
        }
    }

    @Test
    void theListingsClientsCallAtStartAnswer() throws Exception {
        try (ApiServer server = ApiServer.load(settings(null, null, ApiServer.DEFAULT_MAX_BODY_MB))) {
            assertEquals(0, get(server, "/sdapi/v1/sd-vae", null).size());
            assertEquals(0, get(server, "/sdapi/v1/loras", null).size());
            JsonNode embeddings = get(server, "/sdapi/v1/embeddings", null);
            assertTrue(embeddings.path("loaded").isObject() && embeddings.path("skipped").isObject());
            JsonNode upscalers = get(server, "/sdapi/v1/upscalers", null);
            assertEquals("None", upscalers.get(0).path("name").asText());
            assertEquals("Lanczos", upscalers.get(1).path("name").asText());
            for (String f : List.of("model_name", "model_path", "model_url", "scale")) {
                assertTrue(upscalers.get(0).has(f), f);
            }
            JsonNode modes = get(server, "/sdapi/v1/latent-upscale-modes", null);
            assertEquals("Latent", modes.get(0).path("name").asText());
            HttpResponse<String> noLoraDir = post(server, "/sdapi/v1/txt2img", clientBody("x <lora:a:1>", 1, 2, 64,
                    "Euler"));
            assertEquals(422, noLoraDir.statusCode(), noLoraDir.body());
        }
    }

    @Test
    void apiAuthAnswers401WithoutCredentialsAndALargeBody413() throws Exception {
        try (ApiServer server = ApiServer.load(settings(null, "alice:secret,bob:pw", 1))) {
            HttpResponse<String> none = send(server, "/sdapi/v1/sd-models", null, null);
            assertEquals(401, none.statusCode(), none.body());
            assertTrue(none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic"));
            assertEquals(401, send(server, "/sdapi/v1/sd-models", "alice:wrong", null).statusCode());
            assertEquals(401, send(server, "/sdapi/v1/txt2img", null, "{}").statusCode());
            assertEquals(200, send(server, "/sdapi/v1/sd-models", "alice:secret", null).statusCode());
            assertEquals(200, send(server, "/sdapi/v1/options", "bob:pw", null).statusCode());
            String big = "{\"prompt\": \"" + "x".repeat(2 << 20) + "\"}";
            HttpResponse<String> tooLarge = send(server, "/sdapi/v1/txt2img", "alice:secret", big);
            assertEquals(413, tooLarge.statusCode(), tooLarge.body());
        }
    }

    private static JsonNode get(ApiServer s, String path, String user) throws Exception {
        return ok(send(s, path, user, null));
    }

    /** GET (body null) or POST {@code path}, with basic credentials {@code user} ("name:password") or none. */
    private static HttpResponse<String> send(ApiServer s, String path, String user, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
                .timeout(Duration.ofMinutes(2));
        if (user != null) {
            b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(user.getBytes(StandardCharsets.UTF_8)));
        }
        b = body == null ? b.GET() : b.header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return Stream.concat(a.stream(), b.stream()).toList();
    }
}
