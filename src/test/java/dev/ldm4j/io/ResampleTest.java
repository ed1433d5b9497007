package dev.ldm4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ldm4j.Fixtures;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Resample against Pillow's own Image.resize (scripts/reference/pil_resize.py), to the byte: Lanczos, bicubic
 * and bilinear, up- and downscaling, square and not.
 */
class ResampleTest {
    @ParameterizedTest(name = "{0} {1} {2}x{3}")
    @CsvSource({
        "lowres32, lanczos, 128, 128", "lowres32, bicubic, 128, 128", "lowres32, bilinear, 128, 128",
        "lowres32, lanczos, 50, 70", "lowres32, bicubic, 17, 9", "lowres32, lanczos, 96, 40",
        "photo64, lanczos, 128, 128", "photo64, bicubic, 50, 70", "photo64, lanczos, 17, 9",
        "photo64, bilinear, 96, 40", "photo64, bicubic, 128, 128", "photo64, lanczos, 50, 70"})
    void matchesPillow(String source, String filter, int w, int h) throws URISyntaxException {
        Path input = Fixtures.path(source.equals("lowres32") ? "sd-x4-upscaler-tiny/lowres_32.png" : "sd1-tiny/photo_64.png");
        RgbImage expected = Images.readRgb(Path.of(getClass().getResource(
                "pil-resize/" + source + "_" + filter + "_" + w + "x" + h + ".png").toURI()));
        RgbImage mine = Resample.resize(Images.readRgb(input), w, h, Resample.Filter.valueOf(filter.toUpperCase()));
        assertEquals(w, mine.width());
        assertEquals(h, mine.height());
        assertArrayEquals(expected.pixels(), mine.pixels());
    }
}
