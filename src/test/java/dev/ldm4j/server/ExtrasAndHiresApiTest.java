package dev.ldm4j.server;

import static dev.ldm4j.server.ApiServerTest.cli;
import static dev.ldm4j.server.ApiServerTest.clientBody;
import static dev.ldm4j.server.ApiServerTest.image;
import static dev.ldm4j.server.ApiServerTest.ok;
import static dev.ldm4j.server.ApiServerTest.post;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ldm4j.Fixtures;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The A1111 fields this server maps onto ldm4j's hires fix, inpainting options and image upscalers: the
 * served pixels equal the CLI's with the matching flags, and extra-single-image equals A1111's Lanczos upscale
 * (scripts/reference/a1111_upscalers.py).
 */
class ExtrasAndHiresApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TinyServer tiny;
    private static ApiServer server;

    @BeforeAll
    static void start() {
        tiny = TinyServer.start();
        server = tiny.server();
    }

    @AfterAll
    static void stop() {
        TinyServer.close(tiny);
    }

    private static String base64(Path file) throws Exception {
        return Base64.getEncoder().encodeToString(Files.readAllBytes(file));
    }

    @Test
    void extraSingleImageIsA1111sLanczosUpscale() throws Exception {
        ObjectNode body = JSON.createObjectNode().put("image", base64(Fixtures.path("sd1-tiny/photo_64.png")))
                .put("resize_mode", 0).put("upscaling_resize", 1.5).put("upscaler_1", "Lanczos")
                .put("upscaler_2", "None").put("extras_upscaler_2_visibility", 0).put("gfpgan_visibility", 0)
                .put("codeformer_visibility", 0).put("codeformer_weight", 0).put("upscaling_crop", true)
                .put("upscale_first", false).put("show_extras_results", true);
        JsonNode r = ok(post(server, "/sdapi/v1/extra-single-image", body));
        RgbImage expected = Images.readRgb(Path.of(getClass().getResource(
                "/dev/ldm4j/pipeline/a1111-upscalers/upscale_photo_Lanczos_1.5.png").toURI()));
        assertArrayEquals(expected.pixels(), image(r.path("image").asText()).pixels());
        assertEquals("<p>Postprocess upscale by: 1.5, Postprocess upscaler: Lanczos</p>", r.path("html_info").asText());

        body.put("resize_mode", 1).put("upscaling_resize_w", 100).put("upscaling_resize_h", 90);
        RgbImage cropped = image(ok(post(server, "/sdapi/v1/extra-single-image", body)).path("image").asText());
        assertEquals(100, cropped.width());
        assertEquals(90, cropped.height());

        body.put("upscaler_1", "ESRGAN_4x");
        var bad = post(server, "/sdapi/v1/extra-single-image", body);
        assertEquals(422, bad.statusCode());
        assertTrue(bad.body().contains("upscaler_1"), bad.body());
    }

    @Test
    void txt2imgEnableHrGivesTheCliHiresPixels(@TempDir Path dir) throws Exception {
        ObjectNode body = clientBody("a red barn", 11, 3, 32, "Euler a");
        body.put("enable_hr", true).put("hr_scale", 2).put("hr_upscaler", "Lanczos").put("hr_second_pass_steps", 2)
                .put("denoising_strength", 0.6);
        JsonNode r = ok(post(server, "/sdapi/v1/txt2img", body));
        RgbImage served = image(r.path("images").get(0).asText());
        assertEquals(64, served.width());
        String infotext = JSON.readTree(r.path("info").asText()).path("infotexts").get(0).asText();
        assertTrue(infotext.contains("Denoising strength: 0.6, Hires upscale: 2, Hires steps: 2, Hires upscaler: Lanczos"),
                infotext);
        RgbImage mine = cli(dir, List.of("-p", "a red barn", "-s", "11", "--steps", "3", "--cfg-scale", "7.5",
                "-W", "32", "-H", "32", "--hires-scale", "2", "--hires-upscaler", "lanczos", "--hires-steps", "2",
                "--hires-denoise", "0.6"));
        assertArrayEquals(mine.pixels(), served.pixels());

        body.put("denoising_strength", 0);
        assertEquals(422, post(server, "/sdapi/v1/txt2img", body).statusCode());
    }

    @Test
    void img2imgInpaintingFieldsGiveTheCliPixels(@TempDir Path dir) throws Exception {
        Path init = Fixtures.path("sd1-tiny/photo_64.png");
        Path mask = Fixtures.path("sd1-tiny/mask_64.png");
        ObjectNode body = clientBody("a red barn", 3, 3, 64, "Euler a");
        body.putArray("init_images").add(base64(init));
        body.put("mask", base64(mask)).put("denoising_strength", 0.8).put("mask_blur", 2)
                .put("inpainting_fill", 2).put("inpaint_full_res", 1).put("inpaint_full_res_padding", 6)
                .put("inpainting_mask_invert", 1);
        RgbImage served = image(ok(post(server, "/sdapi/v1/img2img", body)).path("images").get(0).asText());
        RgbImage mine = cli(dir, List.of("-p", "a red barn", "-s", "3", "--steps", "3", "--cfg-scale", "7.5",
                "-i", init.toString(), "--mask", mask.toString(), "--strength", "0.8", "--mask-blur", "2",
                "--masked-content", "latent-noise", "--inpaint-area", "masked", "--inpaint-padding", "6",
                "--invert-mask"));
        assertArrayEquals(mine.pixels(), served.pixels());
    }
}
