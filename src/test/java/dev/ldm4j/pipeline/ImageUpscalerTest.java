package dev.ldm4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The image-space upscalers against AUTOMATIC1111's Upscaler.upscale and resize_image on Pillow
 * (scripts/reference/a1111_upscalers.py), to the byte: sizes rounded down to multiples of 8, the second Lanczos
 * resize, Pillow's nearest neighbour.
 */
class ImageUpscalerTest {
    @ParameterizedTest(name = "{0} {1} x{2}")
    @CsvSource({"photo, Lanczos, 2.0", "photo, Lanczos, 1.5", "photo, Lanczos, 2.3", "small, Lanczos, 2.0",
        "small, Lanczos, 1.5", "small, Lanczos, 2.3", "photo, Nearest, 2.0", "photo, Nearest, 1.5",
        "small, Nearest, 2.3", "small, Nearest, 1.5", "photo, Bicubic, 2.3", "small, Bicubic, 2.0"})
    void upscaleMatchesA1111(String source, String name, double scale) throws URISyntaxException {
        RgbImage expected = Images.readRgb(resource("upscale_" + source + "_" + name + "_" + scale));
        RgbImage mine = ImageUpscaler.parse(name, "test").upscale(input(source), scale);
        assertEquals(expected.width(), mine.width());
        assertEquals(expected.height(), mine.height());
        assertEquals(0, mine.width() % 8);
        assertArrayEquals(expected.pixels(), mine.pixels());
    }

    @ParameterizedTest(name = "{0} {1} {2}x{3}")
    @CsvSource({"small, Lanczos, 120, 72", "photo, Lanczos, 100, 90", "small, Nearest, 120, 72",
        "photo, Nearest, 100, 90", "small, Bicubic, 120, 72", "photo, Bicubic, 100, 90"})
    void resizeModeZeroMatchesA1111(String source, String name, int w, int h) throws URISyntaxException {
        RgbImage expected = Images.readRgb(resource("resize0_" + source + "_" + name + "_" + w + "x" + h));
        RgbImage mine = ImageUpscaler.parse(name, "test").resizeTo(input(source), w, h);
        assertEquals(w, mine.width());
        assertEquals(h, mine.height());
        assertArrayEquals(expected.pixels(), mine.pixels());
    }

    private RgbImage input(String source) throws URISyntaxException {
        return source.equals("photo") ? Images.readRgb(Fixtures.path("sd1-tiny/photo_64.png"))
                : Images.readRgb(resource("small_50x30"));
    }

    private Path resource(String name) throws URISyntaxException {
        return Path.of(getClass().getResource("a1111-upscalers/" + name + ".png").toURI());
    }
}
