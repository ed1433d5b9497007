package dev.ldm4j.vae;

import dev.ldm4j.nn.BlockScope;
import dev.ldm4j.nn.Conv2d;
import dev.ldm4j.nn.GroupNorm;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Weights;
import java.util.List;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.Tensor;

/**
 * The autoencoder's residual block (no time embedding): out = shortcut(x) + conv2(silu(norm2(conv1(silu(norm1(x)))))).
 * Dropout is 0 at inference and omitted.
 */
final class ResnetBlock {
    private final GroupNorm norm1;
    private final Conv2d conv1;
    private final GroupNorm norm2;
    private final Conv2d conv2;
    /** 1x1 projection when the channel count changes; null for the identity shortcut. */
    private final Conv2d ninShortcut;

    ResnetBlock(Weights w, long in, long out) {
        this.norm1 = VaeNorm.of(w.sub("norm1"), in);
        this.conv1 = new Conv2d(w.sub("conv1"), in, out, 3);
        this.norm2 = VaeNorm.of(w.sub("norm2"), out);
        this.conv2 = new Conv2d(w.sub("conv2"), out, out, 3);
        this.ninShortcut = in == out ? null : new Conv2d(w.sub("nin_shortcut"), in, out, 1);
    }

    Tensor forward(Tensor x) {
        return BlockScope.run(() -> {
            // chained, so that norm1's output and the first convolution's are gone before the sum is made
            Tensor h = BlockScope.chain(x, List.of(
                    t -> conv1.forward(Ops.siluOfFresh(norm1.forward(t))),
                    t -> conv2.forward(Ops.siluOfFresh(norm2.forward(t)))));
            Tensor skip = ninShortcut == null ? x : ninShortcut.forward(x);
            if (GradMode.is_enabled()) {
                return skip.add(h);
            }
            // h is this block's own tensor: at inference the sum can take its place
            h.add_(skip);
            return h;
        });
    }
}
