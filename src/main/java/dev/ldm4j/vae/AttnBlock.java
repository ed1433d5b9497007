package dev.ldm4j.vae;

import dev.ldm4j.nn.BlockScope;
import dev.ldm4j.nn.Conv2d;
import dev.ldm4j.nn.GroupNorm;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/**
 * Single-head self-attention over all C channels of every pixel, with 1x1 convolutions (4-D weights) for
 * q, k, v and proj_out; scale C^-0.5; residual.
 */
final class AttnBlock {
    private final GroupNorm norm;
    private final Conv2d q;
    private final Conv2d k;
    private final Conv2d v;
    private final Conv2d projOut;

    AttnBlock(Weights w, long channels) {
        this.norm = VaeNorm.of(w.sub("norm"), channels);
        this.q = new Conv2d(w.sub("q"), channels, channels, 1);
        this.k = new Conv2d(w.sub("k"), channels, channels, 1);
        this.v = new Conv2d(w.sub("v"), channels, channels, 1);
        this.projOut = new Conv2d(w.sub("proj_out"), channels, channels, 1);
    }

    Tensor forward(Tensor x) {
        return BlockScope.run(() -> attend(x));
    }

    private Tensor attend(Tensor x) {
        long b = x.size(0);
        long c = x.size(1);
        long height = x.size(2);
        long width = x.size(3);
        Tensor h = norm.forward(x);
        Tensor o = Ops.attention(tokens(q.forward(h)), tokens(k.forward(h)), tokens(v.forward(h)), 1, false);
        Tensor back = o.transpose(1, 2).reshape(b, c, height, width);
        return x.add(projOut.forward(back));
    }

    /** [B, C, H, W] -> [B, H*W, C]: one token per pixel. */
    private static Tensor tokens(Tensor t) {
        return t.flatten(2, 3).transpose(1, 2);
    }
}
