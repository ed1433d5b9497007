package dev.ldm4j.vae;

import dev.ldm4j.nn.BlockScope;
import dev.ldm4j.nn.Conv2d;
import dev.ldm4j.nn.GroupNorm;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Weights;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Tensor;

/** {@code decoder}: latent [B, z_channels, h, w] -> image [B, out_ch, h * f, w * f] (nominally [-1, 1]). */
final class Decoder {
    private final Conv2d convIn;
    private final MidBlock mid;
    /** Indexed by level as in the checkpoint; run from the last (deepest) to 0. */
    private final UpLevel[] up;
    private final GroupNorm normOut;
    private final Conv2d convOut;

    Decoder(Weights w, VaeConfig c) {
        int levels = c.levels();
        long in = c.channels(levels - 1);
        int res = c.resolution() / c.downscaleFactor();
        this.convIn = new Conv2d(w.sub("conv_in"), c.zChannels(), in, 3);
        this.mid = new MidBlock(w.sub("mid"), in);
        this.up = new UpLevel[levels];
        for (int i = levels - 1; i >= 0; i--) {
            long out = c.channels(i);
            // the decoder has one ResnetBlock more per level than the encoder
            up[i] = new UpLevel(w.sub("up").sub(i), in, out, c.numResBlocks() + 1, c.hasAttention(res), i != 0);
            in = out;
            if (i != 0) {
                res *= 2;
            }
        }
        this.normOut = VaeNorm.of(w.sub("norm_out"), in);
        this.convOut = new Conv2d(w.sub("conv_out"), in, c.outCh(), 3);
    }

    Tensor forward(Tensor z) {
        // one flat chain: each block's output is freed as soon as the next block has run
        List<UnaryOperator<Tensor>> stages = new ArrayList<>();
        stages.add(convIn::forward);
        stages.addAll(mid.stages());
        for (int i = up.length - 1; i >= 0; i--) {
            stages.addAll(up[i].stages());
        }
        stages.add(h -> convOut.forward(Ops.siluOfFresh(normOut.forward(h))));
        // channels-last inside, the usual layout out: callers read the image as NCHW memory
        return BlockScope.chain(Ops.channelsLastForInference(z), stages).contiguous();
    }
}
