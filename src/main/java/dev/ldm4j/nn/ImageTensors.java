package dev.ldm4j.nn;

import dev.ldm4j.io.GrayImage;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Conversions between 8-bit images and NCHW image tensors. Float tensors are in [0, 1]: the 8-bit value
 * divided by 255 in float32 (so {@code 2 * x - 1} is exactly what the reference scripts feed the VAE).
 */
public final class ImageTensors {
    private ImageTensors() {}

    /** Reads an image file as a float32 tensor [1, 3, H, W] in [0, 1] (see {@link Images#readRgb}). */
    public static Tensor readRgb(Path path) {
        return toFloat(Images.readRgb(path));
    }

    /** Reads an image file as a uint8 tensor [1, 3, H, W] (see {@link Images#readRgb}). */
    public static Tensor readRgbU8(Path path) {
        return toU8(Images.readRgb(path));
    }

    /** Reads a mask file as a float32 tensor [1, 1, H, W] = L / 255 (not thresholded). */
    public static Tensor readMask(Path path) {
        return toFloat(Images.readGray(path));
    }

    /**
     * Quantises a batch of images [B, 3, H, W] in [0, 1] to 8 bits as diffusers does: round(255 * x) with the
     * product in float32 and ties to even, clamped to [0, 255] (NaN becomes 0). Any float dtype and device.
     */
    public static List<RgbImage> toRgb8(Tensor images) {
        long[] shape = Tensors.shape(images);
        if (shape.length != 4 || shape[1] != 3) {
            throw new IllegalArgumentException("expected an image batch [B, 3, H, W], got " + Arrays.toString(shape));
        }
        int n = (int) shape[0];
        int h = (int) shape[2];
        int w = (int) shape[3];
        float[] v = Tensors.toFloats(images.is_cpu() ? images : images.cpu());
        int plane = h * w;
        List<RgbImage> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte[] px = new byte[plane * 3];
            int base = i * 3 * plane;
            for (int c = 0; c < 3; c++) {
                int src = base + c * plane;
                for (int p = 0; p < plane; p++) {
                    px[p * 3 + c] = (byte) quantize(v[src + p]);
                }
            }
            out.add(new RgbImage(w, h, px));
        }
        return out;
    }

    /** round-half-even(255 * x) in float32, clamped to 0..255. */
    static int quantize(float x) {
        float scaled = x * 255f;
        if (Float.isNaN(scaled)) {
            return 0;
        }
        double r = Math.rint(scaled);
        return r <= 0 ? 0 : r >= 255 ? 255 : (int) r;
    }

    /**
     * Peak signal-to-noise ratio of each reconstruction, in dB, on images in [-1, 1] taken to [0, 1] (peak 1);
     * the reconstruction is clamped to the valid range first, as a saved image would be.
     *
     * @return B values; +Infinity for an exact reconstruction
     */
    public static double[] psnr(Tensor x, Tensor xrec) {
        Tensor clamped = xrec.clamp(new ScalarOptional(Ops.s(-1)), new ScalarOptional(Ops.s(1)));
        // (x - xrec) / 2 is the error in [0, 1] units
        Tensor mse = x.sub(clamped).mul(Ops.s(0.5)).pow(Ops.s(2)).flatten(1, -1).mean(new long[] {1}, false,
                new ScalarTypeOptional());
        float[] m = Tensors.toFloats(mse.contiguous());
        double[] out = new double[m.length];
        for (int i = 0; i < m.length; i++) {
            out[i] = m[i] == 0 ? Double.POSITIVE_INFINITY : -10 * Math.log10(m[i]);
        }
        return out;
    }

    /** [1, 3, H, W] float32 in [0, 1]. */
    public static Tensor toFloat(RgbImage image) {
        int plane = image.width() * image.height();
        byte[] px = image.pixels();
        float[] v = new float[plane * 3];
        for (int p = 0; p < plane; p++) {
            for (int c = 0; c < 3; c++) {
                v[c * plane + p] = (px[p * 3 + c] & 0xff) / 255f;
            }
        }
        return Tensors.fromFloats(v, 1, 3, image.height(), image.width());
    }

    /** [1, 3, H, W] uint8. */
    public static Tensor toU8(RgbImage image) {
        int plane = image.width() * image.height();
        byte[] px = image.pixels();
        byte[] planar = new byte[plane * 3];
        for (int p = 0; p < plane; p++) {
            for (int c = 0; c < 3; c++) {
                planar[c * plane + p] = px[p * 3 + c];
            }
        }
        return bytes(planar, 1, 3, image.height(), image.width());
    }

    /** [1, 1, H, W] float32 = value / 255. */
    public static Tensor toFloat(GrayImage image) {
        byte[] px = image.pixels();
        float[] v = new float[px.length];
        for (int p = 0; p < px.length; p++) {
            v[p] = (px[p] & 0xff) / 255f;
        }
        return Tensors.fromFloats(v, 1, 1, image.height(), image.width());
    }

    /** [1, 1, H, W] uint8. */
    public static Tensor toU8(GrayImage image) {
        return bytes(image.pixels().clone(), 1, 1, image.height(), image.width());
    }

    private static Tensor bytes(byte[] data, long... shape) {
        Torch.load();
        Tensor t = torch.empty(shape, Tensors.options(ScalarType.Byte), new MemoryFormatOptional());
        new BytePointer(t.data_ptr()).put(data);
        return t;
    }
}
