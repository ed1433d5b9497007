package dev.ldm4j.vae;

import dev.ldm4j.nn.Weights;
import java.util.List;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Tensor;

/** {@code mid}: ResnetBlock, attention, ResnetBlock at the lowest resolution (attention is always present here). */
final class MidBlock {
    private final ResnetBlock block1;
    private final AttnBlock attn1;
    private final ResnetBlock block2;

    MidBlock(Weights w, long channels) {
        this.block1 = new ResnetBlock(w.sub("block_1"), channels, channels);
        this.attn1 = new AttnBlock(w.sub("attn_1"), channels);
        this.block2 = new ResnetBlock(w.sub("block_2"), channels, channels);
    }

    /** Its blocks in order, for the caller's chain (see {@link dev.ldm4j.nn.BlockScope#chain}). */
    List<UnaryOperator<Tensor>> stages() {
        return List.of(block1::forward, attn1::forward, block2::forward);
    }
}
