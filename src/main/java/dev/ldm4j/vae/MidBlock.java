package dev.ldm4j.vae;

import dev.ldm4j.nn.Weights;
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

    Tensor forward(Tensor x) {
        return block2.forward(attn1.forward(block1.forward(x)));
    }
}
