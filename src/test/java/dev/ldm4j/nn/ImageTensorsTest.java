package dev.ldm4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.GrayImage;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.io.SafetensorsFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageTensorsTest {
    @TempDir
    Path dir;

    private static final String[] SEEDED = {
        "seeded_ddim_64x64", "seeded_ddim_clip_skip2_64x64", "seeded_img2img_ddim_64x64",
        "seeded_img2img_ddim_sample_64x64", "seeded_inpaint_blend_ddim_64x64"};

    @Test
    void quantisationReproducesTheFixturePngsExactly() {
        for (String id : SEEDED) {
            Tensor image;
            try (SafetensorsFile f = Fixtures.open("sd1-tiny/cases/" + id + ".safetensors")) {
                image = Tensors.read(f, "image");
            }
            List<RgbImage> mine = ImageTensors.toRgb8(image);
            assertEquals(1, mine.size());
            RgbImage png = Images.readRgb(Fixtures.path("sd1-tiny/cases/" + id + "_0.png"));
            assertArrayEquals(png.pixels(), mine.get(0).pixels(), id + ": 8-bit image differs from the fixture PNG");
        }
    }

    @Test
    void fixturesDistinguishRoundingFromTruncation() {
        // the exact-match test above means something only if truncating would have failed it
        Tensor image;
        try (SafetensorsFile f = Fixtures.open("sd1-tiny/cases/seeded_ddim_64x64.safetensors")) {
            image = Tensors.read(f, "image");
        }
        float[] v = Tensors.toFloats(image);
        RgbImage png = Images.readRgb(Fixtures.path("sd1-tiny/cases/seeded_ddim_64x64_0.png"));
        int plane = 64 * 64;
        int differ = 0;
        for (int c = 0; c < 3; c++) {
            for (int p = 0; p < plane; p++) {
                int truncated = (int) (v[c * plane + p] * 255f);
                differ += truncated != (png.pixels()[p * 3 + c] & 0xff) ? 1 : 0;
            }
        }
        assertTrue(differ > 1000, "truncation would match the PNG too often: only " + differ + " differences");
    }

    @Test
    void roundsHalfToEvenAndClamps() {
        // ties: values whose float32 product with 255 is exactly k + 0.5
        int ties = 0;
        for (int k = 0; k < 255; k++) {
            float x = (k + 0.5f) / 255f;
            if (x * 255f == k + 0.5f) {
                assertEquals(k % 2 == 0 ? k : k + 1, ImageTensors.quantize(x), "tie at " + (k + 0.5));
                ties++;
            }
        }
        assertTrue(ties > 10, "only " + ties + " exact ties found");
        assertEquals(0, ImageTensors.quantize(-0.3f));
        assertEquals(255, ImageTensors.quantize(1.7f));
        assertEquals(255, ImageTensors.quantize(Float.POSITIVE_INFINITY));
        assertEquals(0, ImageTensors.quantize(Float.NaN));
        assertEquals(128, ImageTensors.quantize(0.5f)); // 127.5 -> 128 (even)
    }

    @Test
    void batchLayoutIsNchw() {
        // batch 2, 3 channels, 1 x 2 pixels; values chosen as k / 255 so the 8-bit result is k
        float[] v = new float[2 * 3 * 2];
        for (int i = 0; i < v.length; i++) {
            v[i] = i / 255f;
        }
        List<RgbImage> out = ImageTensors.toRgb8(Tensors.fromFloats(v, 2, 3, 1, 2));
        assertEquals(2, out.size());
        assertArrayEquals(new byte[] {0, 2, 4, 1, 3, 5}, out.get(0).pixels());
        assertArrayEquals(new byte[] {6, 8, 10, 7, 9, 11}, out.get(1).pixels());
        assertEquals(2, out.get(0).width());
        assertEquals(1, out.get(0).height());
        assertThrows(IllegalArgumentException.class, () -> ImageTensors.toRgb8(Tensors.fromFloats(v, 4, 1, 1, 3)));
        // half precision input is accepted
        List<RgbImage> half = ImageTensors.toRgb8(Tensors.fromFloats(v, 2, 3, 1, 2).to(ScalarType.Half));
        assertEquals(2, half.size());
    }

    @Test
    void readingThePhotoGivesTheReferenceInitImage() {
        Tensor x = ImageTensors.readRgb(Fixtures.path("sd1-tiny/photo_64.png"));
        assertEquals(ScalarType.Float, x.scalar_type().intern());
        Tensor expected;
        try (SafetensorsFile f = Fixtures.open("sd1-tiny/cases/seeded_img2img_ddim_64x64.safetensors")) {
            expected = Tensors.read(f, "init_image");
        }
        // the reference: 2 * (u8 / 255) - 1 in float32
        Tensor mine = x.mul(new Scalar(2.0)).sub(new Scalar(1.0));
        Fixtures.assertClose(expected, mine, 0.0, "init_image from photo_64.png");

        Tensor u8 = ImageTensors.readRgbU8(Fixtures.path("sd1-tiny/photo_64.png"));
        assertEquals(ScalarType.Byte, u8.scalar_type().intern());
        assertArrayEquals(new long[] {1, 3, 64, 64}, Tensors.shape(u8));
        Fixtures.assertClose(x, u8.to(ScalarType.Float).div(new Scalar(255.0)), 0.0, "u8 / 255");
    }

    @Test
    void readingTheMaskGivesTheReferenceMask() {
        Tensor m = ImageTensors.readMask(Fixtures.path("sd1-tiny/mask_64.png"));
        assertArrayEquals(new long[] {1, 1, 64, 64}, Tensors.shape(m));
        Tensor expected;
        try (SafetensorsFile f = Fixtures.open("sd1-tiny/cases/seeded_inpaint_blend_ddim_64x64.safetensors")) {
            expected = Tensors.read(f, "mask");
        }
        Tensor binary = m.ge(new Scalar(0.5)).to(ScalarType.Float);
        Fixtures.assertClose(expected, binary, 0.0, "mask from mask_64.png");
    }

    @Test
    void writeThenReadIsLossless() {
        byte[] px = new byte[19 * 11 * 3];
        new Random(9).nextBytes(px);
        RgbImage img = new RgbImage(19, 11, px);
        Tensor t = ImageTensors.toFloat(img);
        assertArrayEquals(new long[] {1, 3, 11, 19}, Tensors.shape(t));
        Path p = dir.resolve("x.png");
        Images.writePng(p, ImageTensors.toRgb8(t).get(0));
        assertArrayEquals(img.pixels(), Images.readRgb(p).pixels());
        Fixtures.assertClose(t, ImageTensors.readRgb(p), 0.0, "float image after a PNG round trip");

        GrayImage g = new GrayImage(3, 2, new byte[] {0, 1, (byte) 127, (byte) 128, (byte) 254, (byte) 255});
        assertArrayEquals(new float[] {0f, 1 / 255f, 127 / 255f, 128 / 255f, 254 / 255f, 1f},
                Tensors.toFloats(ImageTensors.toFloat(g)));
        assertArrayEquals(new long[] {1, 1, 2, 3}, Tensors.shape(ImageTensors.toU8(g)));
    }

    @Test
    void psnrMatchesHandComputation() {
        Tensor x = Tensors.fromFloats(new float[] {0, 0, 0, 0, 1, 1, 1, 1}, 2, 1, 2, 2);
        // image 0: off by 0.1 in [-1, 1] = 0.05 in [0, 1] everywhere: mse 0.0025; image 1: above 1, clamped = exact
        Tensor y = Tensors.fromFloats(new float[] {0.1f, 0.1f, 0.1f, 0.1f, 1.5f, 1, 1, 2}, 2, 1, 2, 2);
        double[] p = ImageTensors.psnr(x, y);
        assertEquals(-10 * Math.log10(0.0025), p[0], 1e-4);
        assertEquals(Double.POSITIVE_INFINITY, p[1]);
    }
}
