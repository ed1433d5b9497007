package dev.ldm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The public Java API against the golden runs of the tiny SD 1.x model, and the README's example. */
class StableDiffusionTest {
    private static StableDiffusion tiny;

    @BeforeAll
    static void load() {
        tiny = StableDiffusion.load(ModelOptions.of(Fixtures.path("sd1-tiny/model.safetensors"))
                .config(Fixtures.path("sd1-tiny/config.yaml")));
    }

    @AfterAll
    static void close() {
        // null when the fixtures are absent and the class was skipped
        if (tiny != null) {
            tiny.close();
        }
    }

    private static final ImageRequest SEEDED = ImageRequest.of("a photograph of an astronaut riding a horse")
            .size(64, 64).steps(10).sampler("ddim").cfgScale(7.5).seed(42);

    private static int maxLevelDiff(BufferedImage mine, RgbImage golden) {
        assertEquals(golden.width(), mine.getWidth());
        assertEquals(golden.height(), mine.getHeight());
        int m = 0;
        for (int y = 0; y < golden.height(); y++) {
            for (int x = 0; x < golden.width(); x++) {
                int rgb = mine.getRGB(x, y);
                int[] c = {(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff};
                for (int k = 0; k < 3; k++) {
                    m = Math.max(m, Math.abs(c[k] - golden.get(x, y, k)));
                }
            }
        }
        return m;
    }

    @Test
    void aRequestGivesTheReferencePicture() {
        GeneratedImage image = tiny.generate(SEEDED).get(0);
        String id = "seeded_ddim_64x64";
        int levels = Fixtures.caseOf("sd1-tiny", id).path("tolerance").path("png_max_abs_levels").asInt();
        RgbImage golden = Images.readRgb(Fixtures.path("sd1-tiny/cases/" + id + "_0.png"));
        assertTrue(maxLevelDiff(image.image(), golden) <= levels, "differs from the reference by more than "
                + levels + " levels");
        assertEquals(42, image.seed());
        assertTrue(image.parameters().contains("Steps: 10, Sampler: DDIM") && image.parameters().contains("Seed: 42"),
                image.parameters());
    }

    /** A LoRA given at load gives the fixture's seeded LoRA run (kohya's merge, CompVis DDIM). */
    @Test
    void aLoraAtLoadGivesTheReferencePicture() {
        String id = "seeded_ddim_lora_64x64";
        try (StableDiffusion withLora = StableDiffusion.load(ModelOptions.of(Fixtures.path("sd1-tiny/model.safetensors"))
                .config(Fixtures.path("sd1-tiny/config.yaml")).lora(Fixtures.path("lora/sd1_tiny_lora.safetensors"), 0.8))) {
            GeneratedImage image = withLora.generate(SEEDED).get(0);
            int levels = Fixtures.caseOf("lora", id).path("tolerance").path("png_max_abs_levels").asInt();
            RgbImage golden = Images.readRgb(Fixtures.path("lora/cases/" + id + "_0.png"));
            assertTrue(maxLevelDiff(image.image(), golden) <= levels, "differs from the reference by more than "
                    + levels + " levels");
        }
    }

    /** The x4 upscaler through the API: the fixture's seeded 32 -> 128 run, within its PNG's levels. */
    @Test
    void theUpscalerThroughTheApi() throws Exception {
        String folder = "sd-x4-upscaler-tiny";
        String id = "seeded_upscale_ddim_32_to_128";
        var p = Fixtures.caseOf(folder, id).path("params");
        try (StableDiffusion up = StableDiffusion.load(ModelOptions.of(Fixtures.path(folder + "/model.safetensors"))
                .config(Fixtures.path(folder + "/config.yaml")))) {
            java.awt.image.BufferedImage low = javax.imageio.ImageIO.read(Fixtures.path(folder + "/lowres_32.png").toFile());
            GeneratedImage image = up.generate(ImageRequest.of(p.path("prompt").asText()).initImage(low)
                    .noiseLevel(p.path("noise_level").asInt()).steps(p.path("steps").asInt()).sampler("ddim")
                    .cfgScale(p.path("cfg_scale").asDouble()).seed(p.path("seed").asLong())).get(0);
            int levels = Fixtures.caseOf(folder, id).path("tolerance").path("png_max_abs_levels").asInt();
            RgbImage golden = Images.readRgb(Fixtures.path(folder + "/cases/" + id + "_0.png"));
            assertTrue(maxLevelDiff(image.image(), golden) <= levels, "differs from the reference by more than "
                    + levels + " levels");
        }
    }

    @Test
    void threadsSharingOneModelGetTheSamePixelsAsOneThread() throws Exception {
        ImageRequest r = SEEDED.steps(4).sampler("euler_a").batchSize(2);
        int[] alone = pixels(tiny.generate(r).get(1).image());
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<List<GeneratedImage>>> runs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                runs.add(pool.submit(() -> tiny.generate(r)));
            }
            for (Future<List<GeneratedImage>> f : runs) {
                assertArrayEquals(alone, pixels(f.get().get(1).image()));
            }
        } finally {
            pool.shutdown();
        }
    }

    private static int[] pixels(BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    @Test
    void progressHearsEveryStepOfImageToImage() {
        BufferedImage photo = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        List<String> heard = new ArrayList<>();
        List<GeneratedImage> out = tiny.generate(SEEDED.initImage(photo).strength(0.5),
                (done, total) -> heard.add(done + "/" + total));
        // ddim at strength 0.5 of 10 steps runs 5 (CompVis t_enc = int(strength * steps))
        assertEquals(List.of("1/5", "2/5", "3/5", "4/5", "5/5"), heard);
        assertTrue(out.get(0).parameters().contains("Denoising strength: 0.5"), out.get(0).parameters());
    }

    @Test
    void outpaintingAndHiresThroughTheApi() {
        BufferedImage photo = new BufferedImage(48, 40, BufferedImage.TYPE_INT_RGB);
        GeneratedImage grown = tiny.generate(SEEDED.size(64, 56).steps(2).initImage(photo).outpaint(8, 8, 8, 8))
                .get(0);
        assertEquals(64, grown.image().getWidth());
        assertEquals(56, grown.image().getHeight());
        assertTrue(grown.parameters().contains("Mask blur: 4, Masked content: fill"), grown.parameters());
        List<String> heard = new ArrayList<>();
        GeneratedImage hires = tiny.generate(SEEDED.size(32, 32).steps(2).hiresFix(2, 2, 0.5, "Lanczos"),
                (done, total) -> heard.add(done + "/" + total)).get(0);
        assertEquals(64, hires.image().getWidth());
        assertEquals(List.of("1/3", "2/3", "3/3"), heard); // ddim: 2 steps, then hires steps - 1
        assertThrows(IllegalArgumentException.class, () -> tiny.generate(SEEDED.maskBlur(4)));
    }

    @Test
    void badRequestsAreRefusedBeforeAnyWork() {
        assertThrows(IllegalArgumentException.class, () -> tiny.generate(SEEDED.sampler("euler_b")));
        assertThrows(IllegalArgumentException.class, () -> tiny.generate(SEEDED.size(60, 64)));
        assertThrows(IllegalArgumentException.class,
                () -> tiny.generate(SEEDED.mask(new BufferedImage(64, 64, BufferedImage.TYPE_BYTE_GRAY))));
    }

    /** The README's example is a copy of the example module's code, so that the text cannot drift from it. */
    @Test
    void readmeShowsTheExampleModulesCode() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        String example = Files.readString(Path.of("examples/java-api/src/main/java/example/Apple.java"));
        int start = example.indexOf("// README:begin");
        int end = example.indexOf("// README:end");
        assertTrue(start >= 0 && end > start, "markers missing in Apple.java");
        List<String> lines = example.substring(example.indexOf('\n', start) + 1, example.lastIndexOf('\n', end))
                .lines().toList();
        int indent = lines.stream().filter(l -> !l.isBlank())
                .mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
        StringBuilder body = new StringBuilder();
        lines.forEach(l -> body.append(l.isBlank() ? "" : l.substring(indent)).append('\n'));
        assertTrue(readme.contains("```java\n" + body + "```"), "README's Java example differs from Apple.java:\n"
                + body);
    }
}
