package dev.ldm4j.vae;

import dev.ldm4j.nn.Weights;
import dev.ldm4j.nn.BlockScope;
import java.util.List;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Tensor;

/** {@code encoder.down[i]}: ResnetBlocks (each followed by attention on attention levels), then a Downsample except at the last level. */
final class DownLevel {
    private final ResnetBlock[] block;
    /** Empty unless this level's resolution is one of the attention resolutions. */
    private final AttnBlock[] attn;
    private final Downsample downsample;

    DownLevel(Weights w, long in, long out, int blocks, boolean attention, boolean downsamples) {
        this.block = new ResnetBlock[blocks];
        this.attn = new AttnBlock[attention ? blocks : 0];
        for (int j = 0; j < blocks; j++) {
            block[j] = new ResnetBlock(w.sub("block").sub(j), j == 0 ? in : out, out);
            if (attention) {
                attn[j] = new AttnBlock(w.sub("attn").sub(j), out);
            }
        }
        this.downsample = downsamples ? new Downsample(w.sub("downsample"), out) : null;
    }

    /** The level's blocks in order, for the caller's chain of all levels (see {@link BlockScope#chain}). */
    List<UnaryOperator<Tensor>> stages() {
        return LevelStages.of(block, attn, downsample == null ? null : downsample::forward);
    }
}
