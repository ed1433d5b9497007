package dev.ldm4j.data;

import dev.ldm4j.io.RgbImage;

/**
 * Scales an image so that its shorter side is N and cuts the centred N x N square out of it.
 *
 * <p>The filter is the Keys bicubic (a = -0.5), stretched by the scale factor when shrinking so that every
 * source pixel contributes (antialiased, as PIL's {@code resize(..., BICUBIC)} does); weights are
 * normalised where the kernel runs off the image edge. Pixel centres map as
 * {@code src = (dst + 0.5) * in / out - 0.5}. The longer side becomes {@code round(long * N / short)} and the
 * crop starts at {@code floor((long' - N) / 2)}; only the kept N x N pixels are computed. An axis that keeps
 * its length is copied exactly, so an image already N x N comes back unchanged and one N pixels on its
 * shorter side is only cropped.
 */
public final class SquareResize {
    private static final double A = -0.5;

    private SquareResize() {}

    public static RgbImage apply(RgbImage src, int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("target size must be positive, got " + n);
        }
        int w = src.width();
        int h = src.height();
        if (w == n && h == n) {
            return src;
        }
        int outW;
        int outH;
        if (w <= h) {
            outW = n;
            outH = Math.max(n, (int) Math.round((double) h * n / w));
        } else {
            outH = n;
            outW = Math.max(n, (int) Math.round((double) w * n / h));
        }
        Taps xs = Taps.of(w, outW, (outW - n) / 2, n);
        Taps ys = Taps.of(h, outH, (outH - n) / 2, n);

        byte[] px = src.pixels();
        // horizontal pass over every source row, keeping floats so the two passes round once
        float[] mid = new float[h * n * 3];
        for (int y = 0; y < h; y++) {
            int row = y * w * 3;
            for (int x = 0; x < n; x++) {
                float r = 0;
                float g = 0;
                float b = 0;
                int first = xs.first[x];
                float[] wt = xs.weights[x];
                for (int k = 0; k < wt.length; k++) {
                    int o = row + (first + k) * 3;
                    r += wt[k] * (px[o] & 0xff);
                    g += wt[k] * (px[o + 1] & 0xff);
                    b += wt[k] * (px[o + 2] & 0xff);
                }
                int m = (y * n + x) * 3;
                mid[m] = r;
                mid[m + 1] = g;
                mid[m + 2] = b;
            }
        }
        byte[] out = new byte[n * n * 3];
        for (int y = 0; y < n; y++) {
            int first = ys.first[y];
            float[] wt = ys.weights[y];
            for (int x = 0; x < n; x++) {
                for (int c = 0; c < 3; c++) {
                    float v = 0;
                    for (int k = 0; k < wt.length; k++) {
                        v += wt[k] * mid[((first + k) * n + x) * 3 + c];
                    }
                    out[(y * n + x) * 3 + c] = (byte) clamp8(v);
                }
            }
        }
        return new RgbImage(n, n, out);
    }

    private static int clamp8(float v) {
        int r = Math.round(v);
        return r < 0 ? 0 : Math.min(r, 255);
    }

    /** Keys' cubic convolution kernel with a = -0.5 (support [-2, 2]). */
    static double cubic(double x) {
        x = Math.abs(x);
        if (x < 1) {
            return ((A + 2) * x - (A + 3)) * x * x + 1;
        }
        if (x < 2) {
            return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
        }
        return 0;
    }

    /** For each kept output pixel along one axis: the first source index and the weights from there on. */
    private record Taps(int[] first, float[][] weights) {
        static Taps of(int in, int out, int offset, int count) {
            int[] first = new int[count];
            float[][] weights = new float[count][];
            if (in == out) {
                for (int j = 0; j < count; j++) {
                    first[j] = offset + j;
                    weights[j] = new float[] {1f};
                }
                return new Taps(first, weights);
            }
            double scale = (double) in / out;
            double stretch = Math.max(scale, 1.0);
            double radius = 2 * stretch;
            for (int j = 0; j < count; j++) {
                double centre = (offset + j + 0.5) * scale - 0.5;
                int lo = Math.max(0, (int) Math.ceil(centre - radius));
                int hi = Math.min(in - 1, (int) Math.floor(centre + radius));
                double[] wt = new double[hi - lo + 1];
                double sum = 0;
                for (int k = lo; k <= hi; k++) {
                    wt[k - lo] = cubic((k - centre) / stretch);
                    sum += wt[k - lo];
                }
                float[] norm = new float[wt.length];
                for (int k = 0; k < wt.length; k++) {
                    norm[k] = (float) (wt[k] / sum);
                }
                first[j] = lo;
                weights[j] = norm;
            }
            return new Taps(first, weights);
        }
    }
}
