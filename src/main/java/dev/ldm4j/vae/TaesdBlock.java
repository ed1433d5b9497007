package dev.ldm4j.vae;

import dev.ldm4j.nn.Conv2d;
import dev.ldm4j.nn.GroupNorm;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/**
 * TAESD's residual block: relu(conv.4(relu(conv.2(relu(conv.0(x))))) + skip(x)), 3x3 convs with padding 1.
 * The FLUX.2 variant ({@code use_midblock_gn}) first adds a bottleneck branch to the block input:
 * x += pool.3(relu(pool.1(pool.0(x)))) with 1x1 convs C -> 4C -> C and GroupNorm(4 groups, eps 1e-5).
 */
final class TaesdBlock implements TaesdLayer {
    private static final int POOL_EXPANSION = 4;
    private static final int POOL_GROUPS = 4;
    /** torch's default GroupNorm eps: the pool branch is a plain nn.GroupNorm. */
    private static final double POOL_EPS = 1e-5;

    private final Conv2d conv0;
    private final Conv2d conv2;
    private final Conv2d conv4;
    /** 1x1 without bias when the channel count changes; null for the identity. */
    private final Conv2d skip;
    /** The mid-block GroupNorm branch ({@code pool.0}, {@code pool.1}, {@code pool.3}); null when absent. */
    private final Conv2d pool0;
    private final GroupNorm pool1;
    private final Conv2d pool3;

    TaesdBlock(Weights w, long in, long out, boolean midblockGn) {
        Weights conv = w.sub("conv");
        this.conv0 = new Conv2d(conv.sub(0), in, out, 3);
        this.conv2 = new Conv2d(conv.sub(2), out, out, 3);
        this.conv4 = new Conv2d(conv.sub(4), out, out, 3);
        this.skip = in == out ? null : new Conv2d(w.sub("skip"), in, out, 1, 1, 0, false);
        if (midblockGn) {
            Weights pool = w.sub("pool");
            long wide = POOL_EXPANSION * in;
            this.pool0 = new Conv2d(pool.sub(0), in, wide, 1, 1, 0, false);
            this.pool1 = new GroupNorm(pool.sub(1), POOL_GROUPS, wide, POOL_EPS);
            this.pool3 = new Conv2d(pool.sub(3), wide, in, 1, 1, 0, false);
        } else {
            this.pool0 = null;
            this.pool1 = null;
            this.pool3 = null;
        }
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor in = x;
        if (pool0 != null) {
            in = in.add(pool3.forward(pool1.forward(pool0.forward(in)).relu()));
        }
        Tensor h = conv0.forward(in).relu();
        h = conv2.forward(h).relu();
        h = conv4.forward(h);
        Tensor s = skip == null ? in : skip.forward(in);
        return h.add(s).relu();
    }
}
