package dev.ldm4j.io;

import java.util.List;

/** Images of one size tiled into a grid, row by row, with a gap of background between them. */
public final class ImageGrid {
    private ImageGrid() {}

    public static RgbImage tile(List<RgbImage> images, int columns, int gap) {
        if (images.isEmpty() || columns < 1 || gap < 0) {
            throw new IllegalArgumentException("a grid needs images, at least one column and a gap >= 0");
        }
        int w = images.get(0).width();
        int h = images.get(0).height();
        for (RgbImage i : images) {
            if (i.width() != w || i.height() != h) {
                throw new IllegalArgumentException("grid images must share one size: " + w + "x" + h + " vs "
                        + i.width() + "x" + i.height());
            }
        }
        int cols = Math.min(columns, images.size());
        int rows = (images.size() + cols - 1) / cols;
        int gw = cols * w + (cols + 1) * gap;
        int gh = rows * h + (rows + 1) * gap;
        byte[] px = new byte[gw * gh * 3];
        java.util.Arrays.fill(px, (byte) 255);
        for (int n = 0; n < images.size(); n++) {
            int x0 = gap + (n % cols) * (w + gap);
            int y0 = gap + (n / cols) * (h + gap);
            byte[] src = images.get(n).pixels();
            for (int y = 0; y < h; y++) {
                System.arraycopy(src, y * w * 3, px, ((y0 + y) * gw + x0) * 3, w * 3);
            }
        }
        return new RgbImage(gw, gh, px);
    }
}
