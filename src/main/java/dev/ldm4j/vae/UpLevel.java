package dev.ldm4j.vae;

import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code decoder.up[i]}: ResnetBlocks (each followed by attention on attention levels), then an Upsample
 * except at level 0. The decoder runs its levels from the deepest (highest index) to level 0.
 */
final class UpLevel {
    private final ResnetBlock[] block;
    /** Empty unless this level's resolution is one of the attention resolutions. */
    private final AttnBlock[] attn;
    private final Upsample upsample;

    UpLevel(Weights w, long in, long out, int blocks, boolean attention, boolean upsamples) {
        this.block = new ResnetBlock[blocks];
        this.attn = new AttnBlock[attention ? blocks : 0];
        for (int j = 0; j < blocks; j++) {
            block[j] = new ResnetBlock(w.sub("block").sub(j), j == 0 ? in : out, out);
            if (attention) {
                attn[j] = new AttnBlock(w.sub("attn").sub(j), out);
            }
        }
        this.upsample = upsamples ? new Upsample(w.sub("upsample"), out) : null;
    }

    Tensor forward(Tensor x) {
        Tensor h = x;
        for (int j = 0; j < block.length; j++) {
            h = block[j].forward(h);
            if (attn.length > 0) {
                h = attn[j].forward(h);
            }
        }
        return upsample == null ? h : upsample.forward(h);
    }
}
