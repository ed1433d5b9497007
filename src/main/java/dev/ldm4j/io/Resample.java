package dev.ldm4j.io;

/**
 * Image resizing as Pillow's {@code Image.resize} does it for 8-bit RGB (libImaging/Resample.c): a separable
 * convolution, horizontal pass first, with each output pixel's filter weights computed in double over the input
 * pixels its support covers (the support widened by the scale when shrinking), normalised, turned into
 * fixed-point integers of 22 fractional bits, and every pass rounded and clipped to 8 bits. So the results are
 * Pillow's to the byte, which is what AUTOMATIC1111's image-space upscalers give.
 */
public final class Resample {
    private static final int PRECISION_BITS = 32 - 8 - 2;

    /** Pillow's filters: the kernel and its support. */
    public enum Filter {
        /** Lanczos-3: sinc(x) sinc(x / 3) on |x| < 3. */
        LANCZOS(3.0) {
            @Override
            double weight(double x) {
                return x > -3.0 && x < 3.0 ? sinc(x) * sinc(x / 3.0) : 0.0;
            }
        },
        /** Keys' cubic with a = -0.5, as Pillow's BICUBIC. */
        BICUBIC(2.0) {
            @Override
            double weight(double x) {
                double a = -0.5;
                x = Math.abs(x);
                if (x < 1.0) {
                    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                }
                if (x < 2.0) {
                    return (((x - 5) * x + 8) * x - 4) * a;
                }
                return 0.0;
            }
        },
        BILINEAR(1.0) {
            @Override
            double weight(double x) {
                x = Math.abs(x);
                return x < 1.0 ? 1.0 - x : 0.0;
            }
        };

        private final double support;

        Filter(double support) {
            this.support = support;
        }

        abstract double weight(double x);

        private static double sinc(double x) {
            if (x == 0.0) {
                return 1.0;
            }
            x *= Math.PI;
            return Math.sin(x) / x;
        }
    }

    private Resample() {}

    /** {@code image} resized to {@code width} x {@code height} with {@code filter}. */
    public static RgbImage resize(RgbImage image, int width, int height, Filter filter) {
        if (width < 1 || height < 1) {
            throw new IllegalArgumentException("size must be positive, got " + width + "x" + height);
        }
        byte[] px = image.pixels();
        int w = image.width();
        int h = image.height();
        if (width != w) {
            px = pass(px, w, h, width, filter, true);
            w = width;
        }
        if (height != h) {
            px = pass(px, w, h, height, filter, false);
            h = height;
        }
        return new RgbImage(w, h, px == image.pixels() ? px.clone() : px);
    }

    /** One pass along x (horizontal) or y: in size inSize -> outSize along that axis. */
    private static byte[] pass(byte[] in, int w, int h, int outSize, Filter filter, boolean horizontal) {
        int inSize = horizontal ? w : h;
        double scale = (double) inSize / outSize;
        double filterscale = Math.max(scale, 1.0);
        double support = filter.support * filterscale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] kk = new int[outSize * ksize];
        int[] bounds = new int[outSize * 2];
        double[] k = new double[ksize];
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            double ww = 0.0;
            double ss = 1.0 / filterscale;
            int xmin = Math.max((int) (center - support + 0.5), 0);
            int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
            for (int x = 0; x < xmax; x++) {
                double v = filter.weight((x + xmin - center + 0.5) * ss);
                k[x] = v;
                ww += v;
            }
            for (int x = 0; x < ksize; x++) {
                double v = x < xmax ? (ww != 0.0 ? k[x] / ww : k[x]) : 0.0;
                kk[xx * ksize + x] = (int) (v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
            }
            bounds[2 * xx] = xmin;
            bounds[2 * xx + 1] = xmax;
        }
        int ow = horizontal ? outSize : w;
        int oh = horizontal ? h : outSize;
        byte[] out = new byte[ow * oh * 3];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                int o = horizontal ? x : y;
                int min = bounds[2 * o];
                int n = bounds[2 * o + 1];
                for (int c = 0; c < 3; c++) {
                    int acc = 1 << (PRECISION_BITS - 1);
                    for (int i = 0; i < n; i++) {
                        int src = horizontal ? (y * w + min + i) * 3 + c : ((min + i) * w + x) * 3 + c;
                        acc += (in[src] & 0xff) * kk[o * ksize + i];
                    }
                    out[(y * ow + x) * 3 + c] = clip8(acc);
                }
            }
        }
        return out;
    }

    private static byte clip8(int in) {
        if (in >= (1 << PRECISION_BITS) * 256) {
            return (byte) 255;
        }
        if (in <= 0) {
            return 0;
        }
        return (byte) (in >> PRECISION_BITS);
    }
}
