package dev.ldm4j.io;

/**
 * An 8-bit single-channel image (a mask, or PIL's "L" mode): one byte per pixel, row-major, top row first.
 * The array is shared, not copied.
 */
public record GrayImage(int width, int height, byte[] pixels) {
    public GrayImage {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (pixels == null || pixels.length != (long) width * height) {
            throw new IllegalArgumentException(width + "x" + height + " gray needs " + (long) width * height
                    + " bytes, got " + (pixels == null ? "null" : pixels.length));
        }
    }

    /** The value at (x, y), 0..255. */
    public int get(int x, int y) {
        return pixels[y * width + x] & 0xff;
    }
}
