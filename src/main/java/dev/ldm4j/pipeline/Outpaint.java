package dev.ldm4j.pipeline;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.GrayImage;
import dev.ldm4j.io.RgbImage;

/**
 * Outpainting: the init image grown by a border of new pixels on each side, to be inpainted. The border starts as
 * the image's edge pixels stretched outwards (what masked content "original" then noises; "fill" replaces it by
 * A1111's blurred colours, "latent-noise" by noise), and the mask is white over the border and, as AUTOMATIC1111's
 * "Poor man's outpainting" draws it, {@code overlap} pixels into the image on each grown side, so that the blurred
 * mask's soft edge falls on the seam and not in the new area alone.
 *
 * @param left   pixels added on the left, a multiple of 8
 */
public record Outpaint(int left, int top, int right, int bottom) {
    public Outpaint {
        for (int v : new int[] {left, top, right, bottom}) {
            if (v < 0 || v % 8 != 0 || v > 4096) {
                throw new BadRequestException("outpaint borders must be multiples of 8 in 0..4096 pixels, got "
                        + left + "," + top + "," + right + "," + bottom);
            }
        }
        if (left + top + right + bottom == 0) {
            throw new BadRequestException("outpaint needs at least one border wider than 0 pixels");
        }
    }

    /** "LEFT,TOP,RIGHT,BOTTOM" in pixels. */
    public static Outpaint parse(String s) {
        String[] parts = s.trim().split("\\s*,\\s*", -1);
        if (parts.length == 4) {
            try {
                return new Outpaint(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]),
                        Integer.parseInt(parts[2]), Integer.parseInt(parts[3]));
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new BadRequestException("outpaint: expected LEFT,TOP,RIGHT,BOTTOM in pixels (multiples of 8), got '"
                + s + "'");
    }

    /** The grown image: the original at (left, top), each new pixel a copy of the nearest edge pixel. */
    public RgbImage pad(RgbImage image) {
        int w = image.width() + left + right;
        int h = image.height() + top + bottom;
        byte[] out = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            int sy = Math.min(Math.max(y - top, 0), image.height() - 1);
            for (int x = 0; x < w; x++) {
                int sx = Math.min(Math.max(x - left, 0), image.width() - 1);
                System.arraycopy(image.pixels(), (sy * image.width() + sx) * 3, out, (y * w + x) * 3, 3);
            }
        }
        return new RgbImage(w, h, out);
    }

    /**
     * The mask of the grown image of an {@code width} x {@code height} original: black over the original
     * shrunk by {@code overlap} on each grown side, white elsewhere.
     */
    public GrayImage mask(int width, int height, int overlap) {
        int w = width + left + right;
        int h = height + top + bottom;
        int x1 = left + (left > 0 ? overlap : 0);
        int y1 = top + (top > 0 ? overlap : 0);
        int x2 = left + width - (right > 0 ? overlap : 0);
        int y2 = top + height - (bottom > 0 ? overlap : 0);
        byte[] px = new byte[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                px[y * w + x] = (byte) (x >= x1 && x < x2 && y >= y1 && y < y2 ? 0 : 255);
            }
        }
        return new GrayImage(w, h, px);
    }

    /**
     * The inpainting input of outpainting {@code init}: its image grown, the mask drawn with the blur as overlap,
     * and the options (blur, masked content) given; the whole grown image is worked on.
     */
    public InitImage apply(InitImage init, MaskOptions options) {
        RgbImage image = init.image();
        MaskOptions whole = new MaskOptions(options.blur(), false, options.content(), false, options.padding());
        return new InitImage(pad(image), mask(image.width(), image.height(), options.blur()), init.strength(),
                init.encoding(), init.noising(), init.noiseLevel(), whole);
    }
}
