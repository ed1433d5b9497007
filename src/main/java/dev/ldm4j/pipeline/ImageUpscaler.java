package dev.ldm4j.pipeline;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.Resample;
import dev.ldm4j.io.RgbImage;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Image-space upscalers without a model, as AUTOMATIC1111's Upscaler classes run them (modules/upscaler.py) on
 * Pillow's resize ({@link Resample}, to the byte): {@link #upscale} is its Upscaler.upscale, {@link #resizeTo}
 * its images.resize_image in resize mode 0 with an upscaler name (what the hires fix calls). A1111 has no
 * "Bicubic" upscaler; ldm4j adds one on Pillow's BICUBIC filter.
 */
public enum ImageUpscaler {
    NONE("None"),
    LANCZOS("Lanczos"),
    NEAREST("Nearest"),
    BICUBIC("Bicubic");

    private final String a1111Name;

    ImageUpscaler(String a1111Name) {
        this.a1111Name = a1111Name;
    }

    public String a1111Name() {
        return a1111Name;
    }

    /** By A1111's name or the lower-case flag spelling. */
    public static ImageUpscaler parse(String name, String field) {
        for (ImageUpscaler u : values()) {
            if (u.a1111Name.equalsIgnoreCase(name.trim())) {
                return u;
            }
        }
        throw new BadRequestException(field + ": unknown upscaler '" + name + "'; valid: "
                + Arrays.stream(values()).map(ImageUpscaler::a1111Name).collect(Collectors.joining(", ")));
    }

    /**
     * A1111's Upscaler.upscale(img, scale): up to three rounds of this upscaler's own step until the image is at
     * least int(side x scale // 8 x 8) each way, then a Lanczos resize to exactly that (so the result's sides are
     * multiples of 8, rounded down).
     */
    public RgbImage upscale(RgbImage img, double scale) {
        if (!(scale > 0) || !Double.isFinite(scale)) {
            throw new BadRequestException("upscale factor must be a positive number, got " + scale);
        }
        int destW = (int) (Math.floor(img.width() * scale / 8) * 8);
        int destH = (int) (Math.floor(img.height() * scale / 8) * 8);
        if (destW < 1 || destH < 1 || (long) destW * destH > 1L << 26) {
            throw new BadRequestException(String.format(Locale.ROOT, "upscaling %dx%d by %s gives %dx%d; the result "
                    + "must be 8..8192 pixels a side", img.width(), img.height(), scale, destW, destH));
        }
        for (int i = 0; i < 3; i++) {
            int w = img.width();
            int h = img.height();
            img = step(img, scale);
            if (img.width() == w && img.height() == h) {
                break;
            }
            if (img.width() >= destW && img.height() >= destH) {
                break;
            }
        }
        if (img.width() != destW || img.height() != destH) {
            img = Resample.resize(img, destW, destH, Resample.Filter.LANCZOS);
        }
        return img;
    }

    /** A1111's images.resize_image(0, im, w, h, upscaler_name): upscale by the larger factor, then Lanczos to w x h. */
    public RgbImage resizeTo(RgbImage im, int w, int h) {
        if (this == NONE) {
            return im.width() == w && im.height() == h ? im : Resample.resize(im, w, h, Resample.Filter.LANCZOS);
        }
        double scale = Math.max((double) w / im.width(), (double) h / im.height());
        if (scale > 1.0) {
            im = upscale(im, scale);
        }
        if (im.width() != w || im.height() != h) {
            im = Resample.resize(im, w, h, Resample.Filter.LANCZOS);
        }
        return im;
    }

    /** The upscaler's do_upscale: one resize to int(side x scale). */
    private RgbImage step(RgbImage img, double scale) {
        int w = (int) (img.width() * scale);
        int h = (int) (img.height() * scale);
        return switch (this) {
            case NONE -> img;
            case LANCZOS -> Resample.resize(img, w, h, Resample.Filter.LANCZOS);
            case BICUBIC -> Resample.resize(img, w, h, Resample.Filter.BICUBIC);
            case NEAREST -> nearest(img, w, h);
        };
    }

    /**
     * Pillow's NEAREST resize (ImagingScaleAffine): source column (int)(x0 + (x + 0.5) * in / out) with the
     * position accumulated step by step in double, as Pillow does.
     */
    static RgbImage nearest(RgbImage img, int w, int h) {
        int[] xs = table(img.width(), w);
        int[] ys = table(img.height(), h);
        byte[] out = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                System.arraycopy(img.pixels(), (ys[y] * img.width() + xs[x]) * 3, out, (y * w + x) * 3, 3);
            }
        }
        return new RgbImage(w, h, out);
    }

    private static int[] table(int in, int out) {
        double a = (double) in / out;
        double pos = a * 0.5;
        int[] t = new int[out];
        for (int i = 0; i < out; i++) {
            t[i] = Math.min(Math.max((int) pos, 0), in - 1);
            pos += a;
        }
        return t;
    }
}
