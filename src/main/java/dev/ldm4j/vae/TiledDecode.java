package dev.ldm4j.vae;

import dev.ldm4j.nn.Tensors;
import java.util.function.UnaryOperator;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Decodes a large latent in overlapping tiles so that peak memory follows the tile, not the image: each tile
 * is decoded on its own (in its own scope) and added to the output with a weight that ramps linearly from
 * 0 to 1 across the overlap with its neighbours, then the sum is divided by the summed weights. A latent that
 * fits in one tile is decoded in one call, unchanged. Tiles see only their own area, so the decoder's
 * GroupNorm statistics are per tile: the result differs slightly from a whole decode, which is why tiling
 * is used only when asked for or when the image is large.
 */
public final class TiledDecode {
    /** Images above this many pixels (1024 x 1024) are decoded in tiles unless tiling was switched off. */
    public static final long AUTO_PIXELS = 1024L * 1024;
    /** Latent tile and overlap: a 256-pixel tile keeps the decoder's activations near 0.5 GB in float32. */
    public static final int TILE = 32;
    public static final int TILE_OVERLAP = 8;

    private TiledDecode() {}

    /** Whether an image of {@code pixels} is decoded in tiles: as asked, or by default above {@link #AUTO_PIXELS}. */
    public static boolean wanted(Boolean vaeTiling, long pixels) {
        return vaeTiling != null ? vaeTiling : pixels > AUTO_PIXELS;
    }

    /** {@link #decode(UnaryOperator, Tensor, int, int, int)} with the default tile and overlap. */
    public static Tensor decode(UnaryOperator<Tensor> decoder, Tensor z, int factor) {
        return decode(decoder, z, factor, TILE, TILE_OVERLAP);
    }

    /**
     * @param decoder latent tile [B, C, th, tw] to image tile [B, 3, th * factor, tw * factor]
     * @param tile tile size in latent pixels
     * @param overlap overlap of neighbouring tiles in latent pixels, less than {@code tile}
     */
    public static Tensor decode(UnaryOperator<Tensor> decoder, Tensor z, int factor, int tile, int overlap) {
        if (tile < 1 || overlap < 0 || overlap >= tile) {
            throw new IllegalArgumentException("tile " + tile + " / overlap " + overlap + " make no tiling");
        }
        long h = z.size(2);
        long w = z.size(3);
        if (h <= tile && w <= tile) {
            return decoder.apply(z);
        }
        long[] ys = starts(h, tile, overlap);
        long[] xs = starts(w, tile, overlap);
        Tensor out = torch.zeros(new long[] {z.size(0), 3, h * factor, w * factor}, Tensors.options(ScalarType.Float));
        Tensor weights = torch.zeros(new long[] {1, 1, h * factor, w * factor}, Tensors.options(ScalarType.Float));
        for (long y0 : ys) {
            for (long x0 : xs) {
                try (PointerScope scope = new PointerScope()) {
                    long th = Math.min(tile, h - y0);
                    long tw = Math.min(tile, w - x0);
                    Tensor img = decoder.apply(z.narrow(2, y0, th).narrow(3, x0, tw)).to(ScalarType.Float);
                    Tensor mask = ramp(th * factor, y0 > 0, y0 + th < h, overlap * factor).unsqueeze(1)
                            .mul(ramp(tw * factor, x0 > 0, x0 + tw < w, overlap * factor).unsqueeze(0))
                            .view(1, 1, th * factor, tw * factor);
                    out.narrow(2, y0 * factor, th * factor).narrow(3, x0 * factor, tw * factor).add_(img.mul(mask));
                    weights.narrow(2, y0 * factor, th * factor).narrow(3, x0 * factor, tw * factor).add_(mask);
                }
            }
        }
        return out.div(weights);
    }

    /** Tile starts covering [0, size) with the given overlap; the last tile ends exactly at size. */
    static long[] starts(long size, int tile, int overlap) {
        if (size <= tile) {
            return new long[] {0};
        }
        long stride = tile - overlap;
        int n = (int) ((size - tile + stride - 1) / stride) + 1;
        long[] s = new long[n];
        for (int i = 0; i < n; i++) {
            s[i] = Math.min(i * stride, size - tile);
        }
        return s;
    }

    /** Weights along one side of a tile: rising over {@code blend} where a neighbour comes before, falling where one follows. */
    static Tensor ramp(long length, boolean before, boolean after, long blend) {
        float[] r = new float[(int) length];
        for (int i = 0; i < length; i++) {
            float v = 1f;
            if (before && blend > 0) {
                v = Math.min(v, (i + 1f) / (blend + 1f));
            }
            if (after && blend > 0) {
                v = Math.min(v, (length - i) / (blend + 1f));
            }
            r[i] = v;
        }
        return Tensors.fromFloats(r, length);
    }

}
