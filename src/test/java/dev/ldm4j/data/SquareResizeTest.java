package dev.ldm4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.io.RgbImage;
import java.util.function.IntBinaryOperator;
import org.junit.jupiter.api.Test;

class SquareResizeTest {
    private static final int RED = 0xff0000;
    private static final int DARK = 0x102030;
    private static final int LIGHT = 0xc0d0e0;

    @Test
    void squareOfTheTargetSizeIsUnchanged() {
        RgbImage img = image(8, 8, (x, y) -> (x * 31 + y * 7) * 0x010203);
        assertSame(img, SquareResize.apply(img, 8));
    }

    @Test
    void shorterSideAtTargetSizeIsOnlyCropped() {
        // 12 x 8 -> keep columns 2..9 exactly
        RgbImage img = image(12, 8, (x, y) -> ((x * 20) << 16) | ((y * 30) << 8) | 7);
        RgbImage out = SquareResize.apply(img, 8);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(img.get(x + 2, y, c), out.get(x, y, c), "(" + x + "," + y + ")");
                }
            }
        }
    }

    @Test
    void wideImageLosesItsSideBordersAndKeepsLeftAndRight() {
        // 64 x 16 -> 32 x 8 -> centre 8 x 8 = output columns 12..19 = source columns 24..39; the red bands
        // (0..19, 44..63) stop 4 source pixels (the kernel's reach at scale 2) short of that window
        RgbImage img = image(64, 16, (x, y) -> x < 20 || x >= 44 ? RED : x < 32 ? DARK : LIGHT);
        RgbImage out = SquareResize.apply(img, 8);
        assertEquals(8, out.width());
        assertEquals(8, out.height());
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                assertTrue(out.get(x, y, 0) < 0xe0, "red border left at (" + x + "," + y + ")");
            }
            for (int x = 0; x < 2; x++) {
                assertPixel(DARK, out, x, y);
            }
            for (int x = 6; x < 8; x++) {
                assertPixel(LIGHT, out, x, y);
            }
        }
    }

    @Test
    void tallImageLosesItsTopAndBottomBorders() {
        // 16 x 40 -> 8 x 20 -> crop rows 6..13 = source rows 12..27; red (0..7, 32..39) keeps 4 pixels away
        RgbImage img = image(16, 40, (x, y) -> y < 8 || y >= 32 ? RED : y < 20 ? DARK : LIGHT);
        RgbImage out = SquareResize.apply(img, 8);
        for (int x = 0; x < 8; x++) {
            for (int y = 0; y < 2; y++) {
                assertPixel(DARK, out, x, y);
            }
            for (int y = 6; y < 8; y++) {
                assertPixel(LIGHT, out, x, y);
            }
        }
    }

    @Test
    void downscalingAveragesInsteadOfSampling() {
        // one white column in four, shrunk 4x: a filter of fixed width (no antialiasing) centred between
        // columns 4j+1 and 4j+2 never sees the white ones (it gives 0); averaging gives a quarter grey
        RgbImage img = image(32, 32, (x, y) -> x % 4 == 3 ? 0xffffff : 0);
        RgbImage out = SquareResize.apply(img, 8);
        for (int y = 0; y < 8; y++) {
            for (int x = 1; x < 7; x++) {
                assertEquals(255 / 4.0, out.get(x, y, 0), 3, "(" + x + "," + y + ")");
            }
        }
    }

    @Test
    void uniformColourStaysExactWhenScalingUpAndDown() {
        for (int[] wh : new int[][] {{3, 5}, {5, 3}, {40, 24}, {7, 7}}) {
            RgbImage img = image(wh[0], wh[1], (x, y) -> 0x3c7f05);
            RgbImage out = SquareResize.apply(img, 6);
            byte[] expected = image(6, 6, (x, y) -> 0x3c7f05).pixels();
            assertArrayEquals(expected, out.pixels(), wh[0] + "x" + wh[1]);
        }
    }

    @Test
    void cubicKernelHasItsDefiningValues() {
        assertEquals(1.0, SquareResize.cubic(0), 0);
        assertEquals(0.0, SquareResize.cubic(1), 1e-15);
        assertEquals(0.0, SquareResize.cubic(2), 0);
        assertEquals(0.5625, SquareResize.cubic(0.5), 1e-15); // (a+2)/8 - (a+3)/4 + 1 with a = -0.5
        assertEquals(-0.0625, SquareResize.cubic(1.5), 1e-15);
    }

    private static void assertPixel(int rgb, RgbImage img, int x, int y) {
        for (int c = 0; c < 3; c++) {
            assertEquals((rgb >> (16 - 8 * c)) & 0xff, img.get(x, y, c), 1, "channel " + c + " at (" + x + "," + y + ")");
        }
    }

    static RgbImage image(int w, int h, IntBinaryOperator rgb) {
        byte[] px = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int v = rgb.applyAsInt(x, y);
                int o = (y * w + x) * 3;
                px[o] = (byte) (v >> 16);
                px[o + 1] = (byte) (v >> 8);
                px[o + 2] = (byte) v;
            }
        }
        return new RgbImage(w, h, px);
    }
}
