package dev.ldm4j.pipeline;

import static dev.ldm4j.nn.Ops.s;

import dev.ldm4j.unet.Conditioning;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A UNet evaluated in overlapping spatial tiles of the latent (and of its concatenated conditioning), the
 * outputs blended with weights that ramp down across each overlap and normalised where tiles meet, so memory
 * stays bounded by the tile while one sampler walks the whole latent (its draws stay those of the whole
 * image). Used where the latent is as large as the image, as with the x4 upscaler.
 */
final class LatentTiles {
    private LatentTiles() {}

    /** {@code model} in tiles of at most {@code tile} x {@code tile} latent pixels overlapping by {@code overlap}. */
    static GuidedModel.ConditionedModel tiled(GuidedModel.ConditionedModel model, int tile, int overlap) {
        if (overlap < 0 || overlap >= tile) {
            throw new IllegalArgumentException("overlap " + overlap + " must be in [0, " + tile + ")");
        }
        return (x, t, c) -> {
            long h = x.size(2);
            long w = x.size(3);
            if (h <= tile && w <= tile) {
                return model.apply(x, t, c);
            }
            Tensor out = null;
            Tensor weight = torch.zeros(new long[] {1, 1, h, w}, dev.ldm4j.nn.Tensors.options(
                    org.bytedeco.pytorch.global.torch.ScalarType.Float));
            try {
                for (long y0 : starts(h, tile, overlap)) {
                    for (long x0 : starts(w, tile, overlap)) {
                        // a tile's own scope: what the model made for it (a UNet's skip activations) is freed
                        // before the next tile runs, so memory is one tile's however many tiles there are
                        try (PointerScope scope = new PointerScope()) {
                            long th = Math.min(tile, h);
                            long tw = Math.min(tile, w);
                            Tensor xt = x.narrow(2, y0, th).narrow(3, x0, tw);
                            Conditioning ct = c.concat() == null ? c
                                    : c.withConcat(c.concat().narrow(2, y0, th).narrow(3, x0, tw));
                            Tensor o = model.apply(xt, t, ct);
                            if (out == null) {
                                out = torch.zeros(new long[] {o.size(0), o.size(1), h, w}, dev.ldm4j.nn.Tensors
                                        .options(org.bytedeco.pytorch.global.torch.ScalarType.Float));
                                out.retainReference();
                            }
                            Tensor win = window(th, tw, overlap, y0 > 0, y0 + th < h, x0 > 0, x0 + tw < w);
                            out.narrow(2, y0, th).narrow(3, x0, tw).add_(o.mul(win));
                            weight.narrow(2, y0, th).narrow(3, x0, tw).add_(win);
                        }
                    }
                }
                return out.div(weight);
            } finally {
                if (out != null) {
                    out.releaseReference();
                }
            }
        };
    }

    /** Tile starts covering [0, n): every stride = tile - overlap, the last one flush with the end. */
    static List<Long> starts(long n, int tile, int overlap) {
        List<Long> out = new ArrayList<>();
        if (n <= tile) {
            out.add(0L);
            return out;
        }
        long stride = tile - overlap;
        for (long s = 0; ; s += stride) {
            if (s + tile >= n) {
                out.add(n - tile);
                return out;
            }
            out.add(s);
        }
    }

    /** [1, 1, h, w] weights: 1 inside, ramping linearly to near 0 across the overlap on sides that meet a tile. */
    private static Tensor window(long h, long w, int overlap, boolean top, boolean bottom, boolean left,
                                 boolean right) {
        float[] v = new float[(int) (h * w)];
        for (int y = 0; y < h; y++) {
            float wy = ramp(y, h, overlap, top, bottom);
            for (int x = 0; x < w; x++) {
                v[(int) (y * w + x)] = wy * ramp(x, w, overlap, left, right);
            }
        }
        return dev.ldm4j.nn.Tensors.fromFloats(v, 1, 1, h, w);
    }

    private static float ramp(int i, long n, int overlap, boolean low, boolean high) {
        float r = 1f;
        if (low && i < overlap) {
            r = Math.min(r, (i + 1f) / (overlap + 1f));
        }
        if (high && i >= n - overlap) {
            r = Math.min(r, (n - i) / (overlap + 1f));
        }
        return r;
    }
}
