package dev.ldm4j.io;

/**
 * An 8-bit RGB image: {@code pixels} holds R, G, B per pixel, row-major, top row first (so the value of
 * channel c at (x, y) is {@code pixels[(y * width + x) * 3 + c] & 0xff}). The array is shared, not copied.
 */
public record RgbImage(int width, int height, byte[] pixels) {
    public RgbImage {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (pixels == null || pixels.length != (long) width * height * 3) {
            throw new IllegalArgumentException(width + "x" + height + " RGB needs " + (long) width * height * 3
                    + " bytes, got " + (pixels == null ? "null" : pixels.length));
        }
    }

    /** Channel c (0 = R, 1 = G, 2 = B) at (x, y), 0..255. */
    public int get(int x, int y, int c) {
        return pixels[(y * width + x) * 3 + c] & 0xff;
    }
}
