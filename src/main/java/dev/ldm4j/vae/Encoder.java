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

/** {@code encoder}: image [B, in, H, W] -> moments-to-be [B, 2 * z_channels, H / f, W / f]. */
final class Encoder {
    private final Conv2d convIn;
    private final DownLevel[] down;
    private final MidBlock mid;
    private final GroupNorm normOut;
    private final Conv2d convOut;

    Encoder(Weights w, VaeConfig c) {
        int levels = c.levels();
        this.convIn = new Conv2d(w.sub("conv_in"), c.inChannels(), c.ch(), 3);
        this.down = new DownLevel[levels];
        long in = c.ch();
        int res = c.resolution();
        for (int i = 0; i < levels; i++) {
            long out = c.channels(i);
            boolean last = i == levels - 1;
            down[i] = new DownLevel(w.sub("down").sub(i), in, out, c.numResBlocks(), c.hasAttention(res), !last);
            in = out;
            if (!last) {
                res /= 2;
            }
        }
        this.mid = new MidBlock(w.sub("mid"), in);
        this.normOut = VaeNorm.of(w.sub("norm_out"), in);
        // double_z: mean and log-variance channels
        this.convOut = new Conv2d(w.sub("conv_out"), in, 2L * c.zChannels(), 3);
    }

    Tensor forward(Tensor x) {
        List<UnaryOperator<Tensor>> stages = new ArrayList<>();
        stages.add(convIn::forward);
        for (DownLevel level : down) {
            stages.addAll(level.stages());
        }
        stages.addAll(mid.stages());
        stages.add(h -> convOut.forward(Ops.siluOfFresh(normOut.forward(h))));
        return BlockScope.chain(Ops.channelsLastForInference(x), stages).contiguous();
    }
}
