package dev.ldm4j.io;

/**
 * AUTOMATIC1111's inpainting mask blur, to the byte: {@code cv2.GaussianBlur} of the 8-bit mask with a kernel of
 * 2 * int(2.5 * r + 0.5) + 1 taps and sigma r, first along x (ksize (k, 1)) and then along y (ksize (1, k)), each
 * pass rounded to 8 bits. OpenCV blurs 8-bit images with its bit-exact fixed-point path: the Gaussian is
 * computed in double, normalised, turned into 8-bit fixed-point taps by error diffusion (the centre tap takes
 * what makes them sum to exactly 256), and each output is (sum of taps x pixels + 128) >> 8, with the image
 * mirrored at its edges without repeating the edge pixel (BORDER_REFLECT_101).
 */
public final class MaskBlur {
    private MaskBlur() {}

    /** A1111's blur of radius {@code r} pixels (its {@code mask_blur}); r = 0 returns the mask unchanged. */
    public static GrayImage blur(GrayImage mask, int r) {
        if (r < 0) {
            throw new IllegalArgumentException("mask blur must be >= 0, got " + r);
        }
        if (r == 0) {
            return mask;
        }
        int[] k = kernel(2 * (int) (2.5 * r + 0.5) + 1, r);
        byte[] x = pass(mask.pixels(), mask.width(), mask.height(), k, true);
        return new GrayImage(mask.width(), mask.height(), pass(x, mask.width(), mask.height(), k, false));
    }

    /** OpenCV's 8-bit fixed-point Gaussian taps (getGaussianKernelBitExact + error diffusion to 8 fraction bits). */
    static int[] kernel(int n, double sigma) {
        int half = (n - 1) / 2;
        double scale2X = -0.125 / (sigma * sigma);
        double[] values = new double[half];
        double sum = 0;
        for (int i = 0, x = 1 - n; i < half; i++, x += 2) {
            values[i] = Math.exp((double) (x * x) * scale2X);
            sum += values[i];
        }
        sum = sum * 2 + 1;
        double mul = 1.0 / sum;
        int[] fixed = new int[n];
        double err = 0;
        int total = 0;
        for (int i = 0; i < half; i++) {
            double adj = values[i] * mul * 256 + err;
            int v = (int) Math.rint(adj);
            err = adj - v;
            fixed[i] = v;
            fixed[n - 1 - i] = v;
            total += v;
        }
        fixed[half] = 256 - 2 * total;
        return fixed;
    }

    private static byte[] pass(byte[] in, int w, int h, int[] k, boolean horizontal) {
        int half = k.length / 2;
        int len = horizontal ? w : h;
        byte[] out = new byte[in.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int pos = horizontal ? x : y;
                int acc = 0;
                for (int i = 0; i < k.length; i++) {
                    int p = reflect101(pos + i - half, len);
                    int v = horizontal ? in[y * w + p] & 0xff : in[p * w + x] & 0xff;
                    acc += v * k[i];
                }
                out[y * w + x] = (byte) Math.min(255, (acc + 128) >> 8);
            }
        }
        return out;
    }

    /** OpenCV's borderInterpolate for BORDER_REFLECT_101: gfedcb|abcdefgh|gfedcba, repeated for long kernels. */
    static int reflect101(int p, int len) {
        if (len == 1) {
            return 0;
        }
        while (p < 0 || p >= len) {
            p = p < 0 ? -p : 2 * len - 2 - p;
        }
        return p;
    }
}
