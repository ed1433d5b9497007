package dev.ldm4j.io;

/**
 * The Pillow operations AUTOMATIC1111's inpainting runs on 8-bit images, to the byte (Pillow 9.x libImaging:
 * Paste.c, Convert.c, AlphaComposite.c, BoxBlur.c): premultiplied-alpha paste through a mask, the conversions
 * between premultiplied (RGBa) and straight (RGBA) alpha, alpha compositing, and GaussianBlur (three box blurs
 * of a fractional radius, extended edges). On top of them: A1111's {@code masking.fill} ("fill" masked content)
 * and its final overlay of the kept area ({@code apply_overlay}).
 *
 * <p>Four-channel images are byte arrays of R, G, B, A per pixel, row-major.
 */
public final class PillowCompositing {
    /** A1111's fill: blurs of these radii composited this many times, widest first. */
    private static final int[][] FILL_LAYERS = {{256, 1}, {64, 1}, {16, 2}, {4, 4}, {2, 2}, {0, 1}};
    /** AlphaComposite.c's extra bits. */
    private static final int PRECISION_BITS = 7;

    private PillowCompositing() {}

    /**
     * A1111's {@code masking.fill(image, mask)}: the area where {@code mask} is white is replaced by colours
     * spread from the rest of the image by ever narrower blurs of it (a smooth guess, not a copy of the edge).
     */
    public static RgbImage fill(RgbImage image, GrayImage mask) {
        requireSameSize(image, mask);
        int w = image.width();
        int h = image.height();
        byte[] masked = maskedPremultiplied(image, invert(mask));
        byte[] mod = new byte[w * h * 4];
        for (int[] layer : FILL_LAYERS) {
            byte[] blurred = masked.clone();
            gaussianBlur(blurred, w, h, layer[0]);
            unpremultiply(blurred);
            for (int i = 0; i < layer[1]; i++) {
                alphaComposite(mod, blurred);
            }
        }
        return rgb(mod, w, h);
    }

    /**
     * A1111's {@code apply_overlay} without a crop: {@code original} with alpha 255 - overlayMask (premultiplied
     * through Pillow's paste, back to straight alpha) composited over {@code generated}. Where the overlay mask is
     * 0 the result is the original pixel; where it is 255, the generated one.
     */
    public static RgbImage overlay(RgbImage generated, RgbImage original, GrayImage overlayMask) {
        requireSameSize(original, overlayMask);
        requireSameSize(generated, overlayMask);
        byte[] over = maskedPremultiplied(original, invert(overlayMask));
        unpremultiply(over);
        byte[] base = rgba(generated);
        alphaComposite(base, over);
        return rgb(base, generated.width(), generated.height());
    }

    /** 255 - mask. */
    public static GrayImage invert(GrayImage mask) {
        byte[] px = mask.pixels().clone();
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (255 - (px[i] & 0xff));
        }
        return new GrayImage(mask.width(), mask.height(), px);
    }

    /**
     * {@code Image.new('RGBa').paste(image.convert('RGBA').convert('RGBa'), mask=alpha)}: every channel, alpha
     * included, becomes DIV255(v * alpha) over a zero background.
     */
    static byte[] maskedPremultiplied(RgbImage image, GrayImage alpha) {
        byte[] px = image.pixels();
        byte[] a = alpha.pixels();
        byte[] out = new byte[a.length * 4];
        for (int p = 0; p < a.length; p++) {
            int m = a[p] & 0xff;
            for (int c = 0; c < 3; c++) {
                out[p * 4 + c] = (byte) div255((px[p * 3 + c] & 0xff) * m);
            }
            out[p * 4 + 3] = (byte) div255(255 * m);
        }
        return out;
    }

    /** Convert.c rgba2rgbA (RGBa to RGBA): v * 255 / alpha, clipped, where alpha is neither 0 nor 255. */
    static void unpremultiply(byte[] rgba) {
        for (int p = 0; p < rgba.length; p += 4) {
            int alpha = rgba[p + 3] & 0xff;
            if (alpha != 0 && alpha != 255) {
                for (int c = 0; c < 3; c++) {
                    rgba[p + c] = (byte) Math.min(255, 255 * (rgba[p + c] & 0xff) / alpha);
                }
            }
        }
    }

    /** AlphaComposite.c: {@code dst} becomes src over dst (both straight RGBA). */
    static void alphaComposite(byte[] dst, byte[] src) {
        for (int p = 0; p < dst.length; p += 4) {
            int sa = src[p + 3] & 0xff;
            if (sa == 0) {
                continue;
            }
            int da = dst[p + 3] & 0xff;
            long blend = (long) da * (255 - sa);
            long outa255 = sa * 255L + blend;
            long coef1 = sa * 255L * 255L * (1 << PRECISION_BITS) / outa255;
            long coef2 = 255L * (1 << PRECISION_BITS) - coef1;
            for (int c = 0; c < 3; c++) {
                long tmp = (src[p + c] & 0xff) * coef1 + (dst[p + c] & 0xff) * coef2;
                dst[p + c] = (byte) (shiftForDiv255(tmp + (0x80L << PRECISION_BITS)) >> PRECISION_BITS);
            }
            dst[p + 3] = (byte) shiftForDiv255(outa255 + 0x80);
        }
    }

    /**
     * ImageFilter.GaussianBlur(radius) on a 4-channel image, in place: Pillow's three passes of a box blur whose
     * fractional radius gives the Gaussian's variance (Gwosdek et al.), each way, in float as Pillow computes it.
     */
    static void gaussianBlur(byte[] rgba, int w, int h, float radius) {
        int passes = 3;
        float sigma2 = radius * radius / passes;
        float bigL = (float) Math.sqrt(12.0 * sigma2 + 1.0);
        float l = (float) Math.floor((bigL - 1.0) / 2.0);
        float a = (2 * l + 1) * (l * (l + 1) - 3 * sigma2);
        a /= 6 * (sigma2 - (l + 1) * (l + 1));
        float boxRadius = l + a;
        for (int i = 0; i < passes; i++) {
            boxBlur(rgba, w, h, boxRadius, true);
        }
        for (int i = 0; i < passes; i++) {
            boxBlur(rgba, w, h, boxRadius, false);
        }
    }

    /** ImagingHorizontalBoxBlur over every row (horizontal) or column (as Pillow's transposed pass). */
    private static void boxBlur(byte[] rgba, int w, int h, float floatRadius, boolean horizontal) {
        int radius = (int) floatRadius;
        long ww = (long) ((float) (1 << 24) / (floatRadius * 2 + 1));
        long fw = ((1L << 24) - (radius * 2L + 1) * ww) / 2;
        int len = horizontal ? w : h;
        int lines = horizontal ? h : w;
        int[] line = new int[len];
        int[] out = new int[len];
        for (int ln = 0; ln < lines; ln++) {
            for (int c = 0; c < 4; c++) {
                for (int i = 0; i < len; i++) {
                    line[i] = rgba[index(ln, i, w, horizontal) * 4 + c] & 0xff;
                }
                lineBlur(out, line, len - 1, radius, ww, fw);
                for (int i = 0; i < len; i++) {
                    rgba[index(ln, i, w, horizontal) * 4 + c] = (byte) out[i];
                }
            }
        }
    }

    private static int index(int line, int i, int w, boolean horizontal) {
        return horizontal ? line * w + i : i * w + line;
    }

    /** BoxBlur.c ImagingLineBoxBlur8, in 32-bit unsigned arithmetic (held in longs). */
    private static void lineBlur(int[] out, int[] in, int lastx, int radius, long ww, long fw) {
        int edgeA = Math.min(radius + 1, lastx + 1);
        int edgeB = Math.max(lastx + 1 - radius - 1, 0);
        long acc = (long) in[0] * (radius + 1);
        for (int x = 0; x < edgeA - 1; x++) {
            acc += in[x];
        }
        acc += (long) in[lastx] * (radius - edgeA + 1);
        if (edgeA <= edgeB) {
            for (int x = 0; x < edgeA; x++) {
                acc += in[x + radius] - in[0];
                out[x] = save(acc * ww + (in[0] + in[x + radius + 1]) * fw);
            }
            for (int x = edgeA; x < edgeB; x++) {
                acc += in[x + radius] - in[x - radius - 1];
                out[x] = save(acc * ww + (in[x - radius - 1] + in[x + radius + 1]) * fw);
            }
            for (int x = edgeB; x <= lastx; x++) {
                acc += in[lastx] - in[x - radius - 1];
                out[x] = save(acc * ww + (in[x - radius - 1] + in[lastx]) * fw);
            }
        } else {
            for (int x = 0; x < edgeB; x++) {
                acc += in[x + radius] - in[0];
                out[x] = save(acc * ww + (in[0] + in[x + radius + 1]) * fw);
            }
            for (int x = edgeB; x < edgeA; x++) {
                acc += in[lastx] - in[0];
                out[x] = save(acc * ww + (in[0] + in[lastx]) * fw);
            }
            for (int x = edgeA; x <= lastx; x++) {
                acc += in[lastx] - in[x - radius - 1];
                out[x] = save(acc * ww + (in[x - radius - 1] + in[lastx]) * fw);
            }
        }
    }

    private static int save(long bulk) {
        return (int) ((((bulk & 0xffffffffL) + (1 << 23)) & 0xffffffffL) >>> 24) & 0xff;
    }

    private static int div255(int v) {
        int tmp = v + 128;
        return ((tmp >> 8) + tmp) >> 8;
    }

    private static long shiftForDiv255(long a) {
        return ((a >> 8) + a) >> 8;
    }

    private static byte[] rgba(RgbImage image) {
        byte[] px = image.pixels();
        byte[] out = new byte[px.length / 3 * 4];
        for (int p = 0, q = 0; p < px.length; p += 3, q += 4) {
            out[q] = px[p];
            out[q + 1] = px[p + 1];
            out[q + 2] = px[p + 2];
            out[q + 3] = (byte) 255;
        }
        return out;
    }

    private static RgbImage rgb(byte[] rgba, int w, int h) {
        byte[] out = new byte[w * h * 3];
        for (int p = 0, q = 0; p < out.length; p += 3, q += 4) {
            out[p] = rgba[q];
            out[p + 1] = rgba[q + 1];
            out[p + 2] = rgba[q + 2];
        }
        return new RgbImage(w, h, out);
    }

    private static void requireSameSize(RgbImage image, GrayImage mask) {
        if (image.width() != mask.width() || image.height() != mask.height()) {
            throw new IllegalArgumentException("image " + image.width() + "x" + image.height() + " and mask "
                    + mask.width() + "x" + mask.height() + " differ in size");
        }
    }
}
