package dev.ldm4j.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ldm4j.Fixtures;
import dev.ldm4j.cli.Main;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.Torch;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ldm4j serve}'s AUTOMATIC1111 API in-process on the tiny fixture model: the bodies a real client sends,
 * pixels equal to the CLI's for the seeded fixture cases, progress and interrupt, the full queue, 422s that name
 * the field, and the listing endpoints' shapes.
 */
class ApiServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private static LatentDiffusionModel model;
    private static ApiServer server;

    @BeforeAll
    static void start() {
        Torch.load();
        model = ModelLoader.load(new ModelLoader.Options(Fixtures.path("sd1-tiny/model.safetensors"),
                Fixtures.path("sd1-tiny/config.yaml"), null, null));
        server = ApiServer.start(model, settings(16));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (model != null) {
            model.close();
        }
    }

    private static ApiServer.Settings settings(int maxQueue) {
        return new ApiServer.Settings("127.0.0.1", 0, maxQueue, Fixtures.path("sd1-tiny/model.safetensors"),
                Fixtures.path("sd1-tiny/config.yaml"));
    }

    /** A txt2img body as AUTOMATIC1111's clients send it: every field, most at their defaults. */
    static ObjectNode clientBody(String prompt, long seed, int steps, int size, String sampler) throws IOException {
        return (ObjectNode) JSON.readTree("""
                {
                  "enable_hr": false, "denoising_strength": 0, "firstphase_width": 0, "firstphase_height": 0,
                  "hr_scale": 2, "hr_upscaler": "Latent", "hr_second_pass_steps": 0, "hr_resize_x": 0,
                  "hr_resize_y": 0, "prompt": "%s", "styles": [], "seed": %d, "subseed": -1,
                  "subseed_strength": 0, "seed_resize_from_h": -1, "seed_resize_from_w": -1,
                  "sampler_name": "%s", "scheduler": "Automatic", "batch_size": 1, "n_iter": 1, "steps": %d,
                  "cfg_scale": 7.5, "width": %d, "height": %d, "restore_faces": false, "tiling": false,
                  "do_not_save_samples": false, "do_not_save_grid": false, "negative_prompt": "", "eta": 0,
                  "s_min_uncond": 0, "s_churn": 0, "s_tmax": 0, "s_tmin": 0, "s_noise": 1,
                  "override_settings": {}, "override_settings_restore_afterwards": true, "script_args": [],
                  "sampler_index": "Euler", "script_name": null, "send_images": true, "save_images": false,
                  "alwayson_scripts": {}, "infotext": null
                }
                """.formatted(prompt, seed, sampler, steps, size, size));
    }

    static HttpResponse<String> post(ApiServer s, String path, JsonNode body) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
                .header("Content-Type", "application/json").timeout(Duration.ofMinutes(5))
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofMinutes(1)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode ok(HttpResponse<String> r) throws IOException {
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    static RgbImage image(String base64) {
        return Images.decodeRgb(Base64.getDecoder().decode(base64), "response");
    }

    /** The CLI's PNG for {@code args} (after generate -m -- --config --, writing to out.png in {@code dir}). */
    static RgbImage cli(Path dir, List<String> args) {
        Path out = dir.resolve("cli.png");
        List<String> a = new ArrayList<>(List.of("generate", "-m", Fixtures.path("sd1-tiny/model.safetensors").toString(),
                "--config", Fixtures.path("sd1-tiny/config.yaml").toString(), "-o", out.toString()));
        a.addAll(args);
        StringWriter err = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true),
                a.toArray(String[]::new)), err.toString());
        return Images.readRgb(out);
    }

    @Test
    void txt2imgOfARealClientGivesTheCliPixels(@TempDir Path dir) throws Exception {
        JsonNode p = Fixtures.caseOf("sd1-tiny", "seeded_ddim_64x64").path("params");
        ObjectNode body = clientBody(p.path("prompt").asText(), p.path("seed").asLong(), p.path("steps").asInt(),
                p.path("width").asInt(), "DDIM");
        JsonNode r = ok(post(server, "/sdapi/v1/txt2img", body));
        assertEquals(1, r.path("images").size());
        RgbImage served = image(r.path("images").get(0).asText());
        RgbImage mine = cli(dir, List.of("-p", p.path("prompt").asText(), "-s", p.path("seed").asText(),
                "--steps", p.path("steps").asText(), "--sampling-method", "ddim", "--scheduler", "discrete",
                "--cfg-scale", p.path("cfg_scale").asText(), "-W", "64", "-H", "64"));
        assertArrayEquals(mine.pixels(), served.pixels(), "the server's pixels differ from the CLI's");
        assertEquals(body, r.path("parameters"));
        assertTrue(r.path("info").isTextual(), "info must be a JSON string");
        JsonNode info = JSON.readTree(r.path("info").asText());
        assertEquals(42, info.path("seed").asLong());
        assertEquals(42, info.path("all_seeds").get(0).asLong());
        assertEquals("DDIM", info.path("sampler_name").asText());
        String infotext = info.path("infotexts").get(0).asText();
        assertTrue(infotext.contains("Sampler: DDIM") && infotext.contains("Seed: 42"), infotext);
        assertEquals(infotext, Images.decodeText(Base64.getDecoder().decode(r.path("images").get(0).asText()), "png")
                .get(Images.PARAMETERS));
    }

    @Test
    void img2imgWithABase64InitImageGivesTheCliPixels(@TempDir Path dir) throws Exception {
        JsonNode p = Fixtures.caseOf("sd1-tiny", "seeded_img2img_ddim_sample_64x64").path("params");
        Path init = Fixtures.path("sd1-tiny/" + p.path("init_img").asText());
        ObjectNode body = clientBody(p.path("prompt").asText(), p.path("seed").asLong(), p.path("steps").asInt(),
                64, "DDIM");
        body.putArray("init_images").add("data:image/png;base64,"
                + Base64.getEncoder().encodeToString(Files.readAllBytes(init)));
        body.put("denoising_strength", p.path("strength").asDouble());
        body.put("resize_mode", 0).put("mask_blur", 4).put("inpainting_fill", 0).put("inpaint_full_res", true)
                .put("include_init_images", false);
        body.putNull("mask");
        JsonNode r = ok(post(server, "/sdapi/v1/img2img", body));
        RgbImage mine = cli(dir, List.of("-p", p.path("prompt").asText(), "-s", p.path("seed").asText(),
                "--steps", p.path("steps").asText(), "--sampling-method", "ddim", "--scheduler", "discrete",
                "--cfg-scale", p.path("cfg_scale").asText(), "-i", init.toString(), "--strength",
                p.path("strength").asText()));
        assertArrayEquals(mine.pixels(), image(r.path("images").get(0).asText()).pixels());
        assertTrue(r.path("parameters").path("init_images").isNull(), "init images are not echoed");
        assertEquals(p.path("strength").asDouble(), JSON.readTree(r.path("info").asText())
                .path("denoising_strength").asDouble());
    }

    @Test
    void progressShowsTheRunningStepAndInterruptEndsTheJob() throws Exception {
        CompletableFuture<HttpResponse<String>> job = CompletableFuture.supplyAsync(() -> {
            try {
                return post(server, "/sdapi/v1/txt2img", clientBody("a long job", 7, 400, 64, "Euler a"));
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        JsonNode state = waitForStep(server);
        assertEquals("txt2img", state.path("job").asText());
        assertEquals(400, state.path("sampling_steps").asInt());
        JsonNode progress = ok(get("/sdapi/v1/progress"));
        assertTrue(progress.path("progress").asDouble() > 0 && progress.path("progress").asDouble() < 1, progress.toString());
        assertTrue(progress.has("eta_relative") && progress.has("current_image") && progress.has("textinfo"));
        // a poll asks for a preview, a later step makes it: a decode of the step's prediction at the image size
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (progress.path("current_image").isNull() && System.nanoTime() < deadline) {
            Thread.sleep(20);
            progress = ok(get("/sdapi/v1/progress"));
        }
        RgbImage preview = image(progress.path("current_image").asText());
        assertEquals(64, preview.width());
        assertEquals(64, preview.height());
        assertTrue(ok(get("/sdapi/v1/progress?skip_current_image=true")).path("current_image").isNull());
        ok(post(server, "/sdapi/v1/interrupt", JSON.createObjectNode()));
        JsonNode r = ok(job.get());
        assertTrue(JSON.readTree(r.path("info").asText()).path("interrupted").asBoolean());
        assertEquals(0, r.path("images").size(), "an interrupted first iteration gives no image");
        JsonNode idle = ok(get("/sdapi/v1/progress"));
        assertEquals(0, idle.path("state").path("job_count").asInt());
        assertTrue(idle.path("current_image").isNull(), "no preview without a running job");
    }

    /** The progress state once the running job has finished a step. */
    private static JsonNode waitForStep(ApiServer s) throws Exception {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline) {
            JsonNode state = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port()
                    + "/sdapi/v1/progress")).GET().build(), HttpResponse.BodyHandlers.ofString()).body()).path("state");
            if (state.path("sampling_step").asInt() > 0) {
                return state;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no step reported within two minutes");
    }

    @Test
    void aFullQueueAnswers503WithRetryAfter() throws Exception {
        try (ApiServer small = ApiServer.start(model, settings(0))) {
            CompletableFuture<HttpResponse<String>> job = CompletableFuture.supplyAsync(() -> {
                try {
                    return post(small, "/sdapi/v1/txt2img", clientBody("busy", 1, 400, 64, "Euler"));
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            waitForStep(small);
            HttpResponse<String> refused = post(small, "/sdapi/v1/txt2img", clientBody("refused", 1, 1, 64, "Euler"));
            assertEquals(503, refused.statusCode(), refused.body());
            assertTrue(refused.headers().firstValue("Retry-After").isPresent());
            post(small, "/sdapi/v1/interrupt", JSON.createObjectNode());
            assertEquals(200, job.get().statusCode());
        }
    }

    @Test
    void badValuesAnswer422NamingTheFieldAndTheServerLivesOn() throws Exception {
        assertUnprocessable(clientBody("x", 1, 2, 64, "No Such Sampler"), "sampler");
        assertUnprocessable(clientBody("x", 1, 2, 60, "Euler"), "width");
        assertUnprocessable(clientBody("x", 1, 0, 64, "Euler"), "steps");
        assertUnprocessable(clientBody("x", 1, 2, 64, "Euler").put("steps", "many"), "steps");
        ObjectNode img = clientBody("x", 1, 2, 64, "Euler");
        img.putArray("init_images").add("not base64!!");
        assertUnprocessable(img, "init_images", "/sdapi/v1/img2img");
        HttpResponse<String> notJson = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                + "/sdapi/v1/txt2img")).POST(HttpRequest.BodyPublishers.ofString("{")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(422, notJson.statusCode(), notJson.body());
        JsonNode r = ok(post(server, "/sdapi/v1/txt2img", clientBody("still alive", 3, 2, 64, "DPM++ 2M Karras")));
        assertEquals(1, r.path("images").size());
        assertTrue(JSON.readTree(r.path("info").asText()).path("infotexts").get(0).asText()
                .contains("Sampler: DPM++ 2M, Schedule type: Karras"));
    }

    private static void assertUnprocessable(JsonNode body, String field) throws Exception {
        assertUnprocessable(body, field, "/sdapi/v1/txt2img");
    }

    private static void assertUnprocessable(JsonNode body, String field, String path) throws Exception {
        HttpResponse<String> r = post(server, path, body);
        assertEquals(422, r.statusCode(), r.body());
        JsonNode error = JSON.readTree(r.body());
        assertTrue(error.path("detail").asText().contains(field), r.body());
        assertTrue(error.has("error") && error.has("errors"), r.body());
    }

    @Test
    void batchesAndIterationsSeedAsA1111() throws Exception {
        ObjectNode body = clientBody("two by two", 100, 2, 64, "Euler").put("batch_size", 2).put("n_iter", 2);
        JsonNode r = ok(post(server, "/sdapi/v1/txt2img", body));
        assertEquals(4, r.path("images").size());
        JsonNode info = JSON.readTree(r.path("info").asText());
        assertEquals(List.of(100L, 100L, 102L, 102L), JSON.convertValue(info.path("all_seeds"),
                JSON.getTypeFactory().constructCollectionType(List.class, Long.class)));
    }

    @Test
    void listingsHaveA1111Shapes() throws Exception {
        JsonNode samplers = ok(get("/sdapi/v1/samplers"));
        assertTrue(samplers.isArray() && samplers.size() > 5);
        JsonNode euler = samplers.get(4);
        assertEquals("Euler a", euler.path("name").asText());
        assertEquals("euler_a", euler.path("aliases").get(0).asText());
        assertTrue(euler.path("options").isObject());
        JsonNode schedulers = ok(get("/sdapi/v1/schedulers"));
        assertEquals("automatic", schedulers.get(0).path("name").asText());
        for (String f : List.of("name", "label", "aliases", "default_rho", "need_inner_model")) {
            assertTrue(schedulers.get(1).has(f), f);
        }
        JsonNode models = ok(get("/sdapi/v1/sd-models"));
        assertEquals(1, models.size());
        JsonNode m = models.get(0);
        assertEquals("model", m.path("model_name").asText());
        assertEquals(64, m.path("sha256").asText().length());
        assertEquals("model.safetensors [" + m.path("hash").asText() + "]", m.path("title").asText());
        assertTrue(m.path("filename").asText().endsWith("model.safetensors") && m.has("config"));
        JsonNode options = ok(get("/sdapi/v1/options"));
        assertEquals(m.path("title").asText(), options.path("sd_model_checkpoint").asText());
        assertEquals(1, options.path("CLIP_stop_at_last_layers").asInt());
        ok(post(server, "/sdapi/v1/options", JSON.createObjectNode().put("CLIP_stop_at_last_layers", 2)));
        assertEquals(2, ok(get("/sdapi/v1/options")).path("CLIP_stop_at_last_layers").asInt());
        ok(post(server, "/sdapi/v1/options", JSON.createObjectNode().put("CLIP_stop_at_last_layers", 1)));
        assertEquals(422, post(server, "/sdapi/v1/options", JSON.createObjectNode()
                .put("sd_model_checkpoint", "other.safetensors")).statusCode());
        assertTrue(ok(get("/sdapi/v1/cmd-flags")).path("api").asBoolean());
    }

    @Test
    void pngInfoReadsTheParametersOfAServedImage() throws Exception {
        JsonNode r = ok(post(server, "/sdapi/v1/txt2img", clientBody("a red fox", 5, 2, 64, "Euler")
                .put("negative_prompt", "blurry")));
        JsonNode info = ok(post(server, "/sdapi/v1/png-info", JSON.createObjectNode()
                .put("image", "data:image/png;base64," + r.path("images").get(0).asText())));
        assertTrue(info.path("info").asText().startsWith("a red fox\nNegative prompt: blurry\nSteps: 2"));
        assertTrue(info.path("items").isObject());
        JsonNode p = info.path("parameters");
        assertEquals("a red fox", p.path("Prompt").asText());
        assertEquals("blurry", p.path("Negative prompt").asText());
        assertEquals("2", p.path("Steps").asText());
        assertEquals("5", p.path("Seed").asText());
        assertEquals("64", p.path("Size-1").asText());
        assertNotNull(p.path("Sampler").asText());
        assertFalse(p.has("Version") && p.path("Version").asText().isEmpty());
    }
    @Test
    void aPortInUseIsTheUsersError() {
        BadRequestException e = assertThrows(BadRequestException.class, () -> ApiServer.start(model,
                new ApiServer.Settings("127.0.0.1", server.port(), 1, Fixtures.path("sd1-tiny/model.safetensors"),
                        Fixtures.path("sd1-tiny/config.yaml"))));
        assertTrue(e.getMessage().contains(String.valueOf(server.port())), e.getMessage());
    }
}
