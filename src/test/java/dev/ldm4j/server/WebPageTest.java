package dev.ldm4j.server;

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
import dev.ldm4j.cli.Main;
import dev.ldm4j.io.GrayImage;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.Torch;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web page at {@code /} in a real headless Chromium (Debian's chromium and chromium-driver; skipped with a
 * message without them), against the server in-process on the tiny fixture model: a generation shows progress
 * and a preview and gives the CLI's pixels and parameters text, the gallery and a dropped PNG fill the form back,
 * and a mask painted on the canvas repaints only where it was painted.
 */
class WebPageTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path CHROMIUM = Path.of(System.getProperty("ldm4j.chromium", "/usr/bin/chromium"));
    private static final Path CHROMEDRIVER = Path.of(System.getProperty("ldm4j.chromedriver", "/usr/bin/chromedriver"));
    private static final Duration WAIT = Duration.ofSeconds(60);

    /** Held: Selenium's warning that it has no CDP classes for this Chromium (the tests use none) is noise. */
    private static final Logger SELENIUM_LOG = Logger.getLogger("org.openqa.selenium");

    private static LatentDiffusionModel model;
    private static ApiServer server;
    private static WebDriver browser;

    private static boolean hasChromium() {
        return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    }

    @BeforeAll
    static void start() {
        if (!hasChromium()) {
            return; // each test is skipped with the reason
        }
        SELENIUM_LOG.setLevel(Level.SEVERE);
        Path weights = Fixtures.path("sd1-tiny/model.safetensors");
        Torch.load();
        model = ModelLoader.load(new ModelLoader.Options(weights, Fixtures.path("sd1-tiny/config.yaml"), null, null));
        server = ApiServer.start(model, new ApiServer.Settings("127.0.0.1", 0, 4, weights,
                Fixtures.path("sd1-tiny/config.yaml")));
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1200");
        // the driver is named: Selenium Manager would otherwise look for (and download) one
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
    }

    @BeforeEach
    void needsChromium() {
        Assumptions.assumeTrue(hasChromium(), "no " + CHROMIUM + " or " + CHROMEDRIVER + ": the web page test needs"
                + " Chromium and its driver (apt-get install chromium chromium-driver; .ci/run installs them;"
                + " -Dldm4j.chromium=PATH -Dldm4j.chromedriver=PATH elsewhere)");
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (server != null) {
            server.close();
        }
        if (model != null) {
            model.close();
        }
    }

    /** The page freshly loaded, once its lists have come from the API. */
    private static void open() {
        browser.get("http://127.0.0.1:" + server.port() + "/");
        waitFor(d -> new Select(el("sampler")).getOptions().size() > 5
                && new Select(el("scheduler")).getOptions().size() > 5
                && !new Select(el("model")).getOptions().isEmpty());
    }

    private static void waitFor(java.util.function.Function<WebDriver, Boolean> condition) {
        new WebDriverWait(browser, WAIT, Duration.ofMillis(50)).until(condition);
    }

    private static WebElement el(String id) {
        return browser.findElement(By.id(id));
    }

    private static Object js(String script, Object... args) {
        return ((JavascriptExecutor) browser).executeScript(script, args);
    }

    private static void type(String id, Object value) {
        WebElement e = el(id);
        e.clear();
        e.sendKeys(String.valueOf(value));
    }

    private static String value(String id) {
        return el(id).getDomProperty("value");
    }

    private static void fill(String prompt, String negative, int size, int steps, String cfg, String sampler,
                             String scheduler, long seed) {
        type("prompt", prompt);
        type("negative_prompt", negative);
        type("width", size);
        type("height", size);
        type("steps", steps);
        type("cfg_scale", cfg);
        new Select(el("sampler")).selectByValue(sampler);
        new Select(el("scheduler")).selectByVisibleText(scheduler);
        type("seed", seed);
    }

    private static int galleryCount() {
        return browser.findElements(By.cssSelector("#gallery img")).size();
    }

    /** The PNG bytes of the gallery's newest image. */
    private static byte[] newestImage() {
        String src = browser.findElement(By.cssSelector("#gallery figure:first-child img")).getDomAttribute("src");
        assertTrue(src.startsWith("data:image/png;base64,"), src);
        return Base64.getDecoder().decode(src.substring(src.indexOf(',') + 1));
    }

    private static void generateAndWait(int galleryBefore) {
        el("generate").click();
        waitFor(d -> galleryCount() > galleryBefore
                || !el("error").getText().isEmpty());
        assertEquals("", el("error").getText(), "the page shows an error");
    }

    @Test
    void aGenerationShowsProgressAndAPreviewAndGivesTheCliImageAndText(@TempDir Path dir) throws Exception {
        open();
        // long enough (about a second on the tiny model) for the page's polls to see it running
        int steps = 100;
        fill("a lighthouse at dusk", "fog", 64, steps, "6.5", "Euler", "Karras", 1234);
        int before = galleryCount();
        el("generate").click();
        double seen = 0;
        String preview = null;
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (galleryCount() == before && System.nanoTime() < deadline && el("error").getText().isEmpty()) {
            Object[] state = ((List<?>) js("return [document.getElementById('progress').value,"
                    + " document.getElementById('preview').hidden ? null : document.getElementById('preview').src];"))
                    .toArray();
            double p = ((Number) state[0]).doubleValue();
            if (p > 0 && p < 1) {
                seen = p;
            }
            if (state[1] != null) {
                preview = (String) state[1];
            }
            Thread.sleep(20);
        }
        assertEquals("", el("error").getText());
        assertEquals(before + 1, galleryCount(), "no image reached the gallery");
        assertTrue(seen > 0, "the progress bar never showed a running job");
        assertTrue(preview != null && preview.startsWith("data:image/png;base64,"), "no live preview was shown");
        RgbImage previewImage = Images.decodeRgb(Base64.getDecoder().decode(preview.substring(preview.indexOf(',') + 1)),
                "preview");
        assertEquals(64, previewImage.width());
        assertEquals(64, previewImage.height());

        byte[] png = newestImage();
        Path out = dir.resolve("cli.png");
        StringWriter err = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true),
                "generate", "-m", Fixtures.path("sd1-tiny/model.safetensors").toString(), "--config",
                Fixtures.path("sd1-tiny/config.yaml").toString(), "-o", out.toString(), "-p", "a lighthouse at dusk",
                "-n", "fog", "-W", "64", "-H", "64", "--steps", String.valueOf(steps), "--cfg-scale", "6.5",
                "--sampling-method", "euler", "--scheduler", "karras", "-s", "1234"), err.toString());
        assertArrayEquals(Images.readRgb(out).pixels(), Images.decodeRgb(png, "page").pixels(),
                "the page's image differs from the CLI's for the same parameters");
        String text = Images.decodeText(png, "page").get(Images.PARAMETERS);
        assertEquals(Images.readText(out).get(Images.PARAMETERS), text, "the page's PNG text differs from the CLI's");
        assertTrue(text.contains("Sampler: Euler, Schedule type: Karras, CFG scale: 6.5, Seed: 1234, Size: 64x64"), text);
        assertEquals("Done", el("status").getText());
        assertEquals(List.of(), js("return performance.getEntriesByType('resource').map(e => e.name)"
                + ".filter(n => !n.startsWith(location.origin));"), "the page loads nothing from elsewhere");
        assertEquals(1.0, ((Number) js("return document.getElementById('progress').value;")).doubleValue());
    }

    @Test
    void theGalleryAndADroppedPngFillTheFormBack() throws Exception {
        open();
        fill("a red fox in snow", "blurry", 48, 3, "5", "DPM++ 2M", "Exponential", 987654321L);
        generateAndWait(galleryCount());
        byte[] png = newestImage();
        Map<String, String> expected = Map.of("prompt", "a red fox in snow", "negative_prompt", "blurry",
                "width", "48", "height", "48", "steps", "3", "cfg_scale", "5", "seed", "987654321",
                "sampler", "DPM++ 2M", "scheduler", "Exponential");

        scramble();
        browser.findElement(By.cssSelector("#gallery figure:first-child img")).click();
        assertForm(expected, "after a click on the gallery image");

        scramble();
        // a file dropped on the page, as a drag from the desktop delivers it
        js("const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));"
                + "const dt = new DataTransfer();"
                + "dt.items.add(new File([bytes], 'dropped.png', {type: 'image/png'}));"
                + "document.getElementById('gallery').dispatchEvent(new DragEvent('drop',"
                + " {dataTransfer: dt, bubbles: true, cancelable: true}));",
                Base64.getEncoder().encodeToString(png));
        waitFor(d -> value("prompt").equals("a red fox in snow")
                || !el("error").getText().isEmpty());
        assertForm(expected, "after dropping the PNG");

        // a value the server refuses: its 422 message, which names the field, is shown and no image is added
        int before = galleryCount();
        type("steps", 1_000_000);
        el("generate").click();
        waitFor(d -> !el("error").getText().isEmpty());
        assertTrue(el("error").getText().contains("'steps'"), el("error").getText());
        assertEquals(before, galleryCount());
        assertTrue(el("generate").isEnabled());
    }

    private static void scramble() {
        fill("something else", "", 64, 9, "2", "Euler a", "Automatic", 1);
    }

    private static void assertForm(Map<String, String> expected, String when) {
        assertEquals("", el("error").getText(), when);
        expected.forEach((id, v) -> {
            String actual = id.equals("sampler") || id.equals("scheduler")
                    ? new Select(el(id)).getFirstSelectedOption().getText() : value(id);
            if (id.equals("cfg_scale")) {
                assertEquals(Double.parseDouble(v), Double.parseDouble(actual), id + " " + when);
            } else {
                assertEquals(v, actual, id + " " + when);
            }
        });
    }

    @Test
    void theLoraAndModelPickersDriveTheServer(@TempDir Path dir) throws Exception {
        Path models = Files.createDirectories(dir.resolve("models"));
        for (String[] m : new String[][] {{"sd1-tiny", "a"}, {"sd2-tiny", "b"}}) {
            Files.createSymbolicLink(models.resolve(m[1] + ".safetensors"),
                    Fixtures.path(m[0] + "/model.safetensors").toRealPath());
            Files.createSymbolicLink(models.resolve(m[1] + ".yaml"), Fixtures.path(m[0] + "/config.yaml").toRealPath());
        }
        try (ApiServer other = ApiServer.load(new ApiServer.Settings("127.0.0.1", 0, 4, null, null, models,
                Fixtures.path("lora"), null, ApiServer.DEFAULT_MAX_BODY_MB))) {
            browser.get("http://127.0.0.1:" + other.port() + "/");
            waitFor(d -> new Select(el("model")).getOptions().size() == 2
                    && new Select(el("sampler")).getOptions().size() > 5);
            assertEquals("a", new Select(el("model")).getFirstSelectedOption().getText(), "the served model");

            fill("a lighthouse", "", 64, 2, "7", "DDIM", "Automatic", 5);
            new Select(el("lora")).selectByVisibleText("sd1_tiny_lora");
            el("lora-add").click();
            assertEquals("a lighthouse <lora:sd1_tiny_lora:1>", value("prompt"));
            generateAndWait(galleryCount());
            JsonNode params = JSON.readTree(browser.findElement(By.cssSelector("#gallery figure:first-child img"))
                    .getDomAttribute("data-params"));
            assertEquals("a lighthouse <lora:sd1_tiny_lora:1>", params.path("prompt").asText(),
                    "the gallery keeps the prompt as sent, its tag included");

            new Select(el("model")).selectByVisibleText("b");
            waitFor(d -> el("status").getText().startsWith("Model:")
                    || !el("error").getText().isEmpty());
            assertEquals("", el("error").getText());
            String title = ModelSwitchTest.get(other, "/sdapi/v1/options").path("sd_model_checkpoint").asText();
            assertTrue(title.startsWith("b.safetensors"), title);
            type("prompt", "a lighthouse");
            generateAndWait(galleryCount());
            String text = Images.decodeText(newestImage(), "page").get(Images.PARAMETERS);
            assertTrue(text.contains("Model: b,"), text);
        }
    }

    @Test
    void aMaskPaintedOnTheCanvasRepaintsOnlyThePaintedBand() throws Exception {
        open();
        Path photo = Fixtures.path("sd1-tiny/photo_64.png");
        el("init-image").sendKeys(photo.toRealPath().toString());
        waitFor(d -> el("canvas-wrap").isDisplayed());
        fill("a stone bridge", "", 64, 8, "7", "DDIM", "Automatic", 77);
        assertEquals("64", value("width"), "the init image's size becomes the output size");
        type("denoising_strength", "0.9");
        // keep what the page sends, to repeat it against the API
        js("window.sentBodies = []; const f = window.fetch;"
                + "window.fetch = (url, init) => { if (init && init.body) window.sentBodies.push([url, init.body]);"
                + " return f(url, init); };");

        // a horizontal stroke across the middle: image x 16..48 at y 32 (the canvas shows 64 px on 256)
        WebElement canvas = el("mask-canvas");
        int cssPerPixel = canvas.getRect().getWidth() / 64;
        assertEquals(4, cssPerPixel);
        new Actions(browser).moveToElement(canvas, (16 - 32) * cssPerPixel, 0).clickAndHold()
                .moveByOffset(8 * cssPerPixel, 0).moveByOffset(8 * cssPerPixel, 0)
                .moveByOffset(8 * cssPerPixel, 0).moveByOffset(8 * cssPerPixel, 0).release().perform();
        generateAndWait(galleryCount());

        List<?> sent = (List<?>) js("return window.sentBodies.filter(b => b[0].endsWith('img2img'));");
        assertEquals(1, sent.size(), "one img2img request");
        ObjectNode body = (ObjectNode) JSON.readTree((String) ((List<?>) sent.get(0)).get(1));
        assertEquals(0.9, body.path("denoising_strength").asDouble());
        GrayImage mask = Base64Images.gray("mask", body.path("mask").asText());
        assertEquals(64, mask.width());
        int brush = Integer.parseInt(value("brush"));
        int white = 0;
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                int m = mask.pixels()[y * 64 + x] & 0xff;
                double d = distanceToStroke(x + 0.5, y + 0.5);
                if (d < brush - 1) {
                    assertTrue(m >= 128, "unpainted at " + x + "," + y);
                } else if (d > brush + 1) {
                    assertEquals(0, m, "painted at " + x + "," + y);
                }
                white += m >= 128 ? 1 : 0;
            }
        }
        assertTrue(white > 0);

        // the page shows what the API gives for that body
        RgbImage onPage = Images.decodeRgb(newestImage(), "page");
        JsonNode again = ok(post(server, "/sdapi/v1/img2img", body));
        assertArrayEquals(image(again.path("images").get(0).asText()).pixels(), onPage.pixels());

        // the mask as the stroke's geometry says, drawn here: the server blurs it (A1111's mask_blur 4) and pastes
        // the repainted area back through it, so the canvas's antialiased stroke edge may move a pixel by a level
        // or two along the band's border; everywhere else the images agree
        byte[] drawn = new byte[64 * 64];
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                drawn[y * 64 + x] = (byte) (distanceToStroke(x + 0.5, y + 0.5) <= brush ? 255 : 0);
            }
        }
        byte[] geometric = img2img(body, new GrayImage(64, 64, drawn)).pixels();
        int maxDiff = 0;
        int differing = 0;
        for (int i = 0; i < geometric.length; i++) {
            int d = Math.abs((onPage.pixels()[i] & 0xff) - (geometric[i] & 0xff));
            maxDiff = Math.max(maxDiff, d);
            differing += d > 2 ? 1 : 0;
        }
        assertTrue(maxDiff <= 16 && differing <= geometric.length / 50, "the page's inpainting differs from the "
                + "API's with the stroke's mask: up to " + maxDiff + " levels, " + differing + " values off by > 2");
        // and the mask mattered, both where it was painted and where it was not
        assertFalse(Arrays.equals(onPage.pixels(), img2img(body, new GrayImage(64, 64, new byte[64 * 64])).pixels()),
                "painting changed nothing");
        body.remove("mask");
        assertFalse(Arrays.equals(onPage.pixels(), image(ok(post(server, "/sdapi/v1/img2img", body))
                .path("images").get(0).asText()).pixels()), "the unpainted area was repainted too");
    }

    private static RgbImage img2img(ObjectNode body, GrayImage mask) throws Exception {
        byte[] rgb = new byte[mask.pixels().length * 3];
        for (int i = 0; i < mask.pixels().length; i++) {
            rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = mask.pixels()[i];
        }
        ObjectNode withMask = body.deepCopy().put("mask", Base64.getEncoder().encodeToString(
                Images.encodePng(new RgbImage(mask.width(), mask.height(), rgb), Map.of())));
        return image(ok(post(server, "/sdapi/v1/img2img", withMask)).path("images").get(0).asText());
    }

    /** Distance in image pixels from (x, y) to the painted segment (16, 32)-(48, 32). */
    private static double distanceToStroke(double x, double y) {
        double cx = Math.max(16, Math.min(48, x));
        return Math.hypot(x - cx, y - 32);
    }
}
