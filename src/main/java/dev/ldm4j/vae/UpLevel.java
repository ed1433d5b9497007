package dev.ldm4j.vae;

import dev.ldm4j.nn.Weights;
import dev.ldm4j.nn.BlockScope;
import java.util.List;
import java.util.function.UnaryOperator;
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

    /** The level's blocks in order, for the caller's chain of all levels (see {@link BlockScope#chain}). */
    List<UnaryOperator<Tensor>> stages() {
        return LevelStages.of(block, attn, upsample == null ? null : upsample::forward);
    }
}
