package dev.ldm4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ldm4j.Fixtures;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * AUTOMATIC1111's inpainting operations against its own library calls (scripts/reference/a1111_masks.py:
 * cv2.GaussianBlur for the mask blur, Pillow for masking.fill and the kept-area overlay), to the byte.
 */
class A1111MaskOpsTest {
    @ParameterizedTest(name = "{0} r={1}")
    @CsvSource({"fixture, 1", "fixture, 4", "fixture, 7", "drawn, 1", "drawn, 4", "drawn, 7", "edge, 1", "edge, 4",
        "edge, 7"})
    void blurFillAndOverlayMatchA1111(String name, int r) throws URISyntaxException {
        GrayImage mask = Images.readGray(resource("mask_" + name));
        GrayImage blurred = MaskBlur.blur(mask, r);
        assertArrayEquals(Images.readGray(resource("blur_" + name + "_" + r)).pixels(), blurred.pixels(), "blur");

        RgbImage photo = sized(Images.readRgb(Fixtures.path("sd1-tiny/photo_64.png")), mask);
        RgbImage filled = PillowCompositing.fill(photo, blurred);
        assertArrayEquals(Images.readRgb(resource("fill_" + name + "_" + r)).pixels(), filled.pixels(), "fill");

        RgbImage other = sized(Images.readRgb(Fixtures.path("sd1-tiny-inpaint/init_64.png")), mask);
        byte[] doubled = blurred.pixels().clone();
        for (int i = 0; i < doubled.length; i++) {
            doubled[i] = (byte) Math.min(255, 2 * (doubled[i] & 0xff));
        }
        RgbImage over = PillowCompositing.overlay(other, photo, new GrayImage(mask.width(), mask.height(), doubled));
        assertArrayEquals(Images.readRgb(resource("overlay_" + name + "_" + r)).pixels(), over.pixels(), "overlay");
    }

    @ParameterizedTest(name = "n={0} sigma={1}")
    @CsvSource({"5, 1", "21, 4", "37, 7", "9, 0.5"})
    void kernelTapsSumTo256(int n, double sigma) {
        int sum = 0;
        int[] k = MaskBlur.kernel(n, sigma);
        for (int i = 0; i < n; i++) {
            sum += k[i];
            assertEquals(k[i], k[n - 1 - i], "symmetric");
        }
        assertEquals(256, sum);
    }

    private static RgbImage sized(RgbImage image, GrayImage mask) {
        return image.width() == mask.width() && image.height() == mask.height() ? image
                : Resample.resize(image, mask.width(), mask.height(), Resample.Filter.LANCZOS);
    }

    private Path resource(String name) throws URISyntaxException {
        return Path.of(getClass().getResource("a1111-masks/" + name + ".png").toURI());
    }
}
