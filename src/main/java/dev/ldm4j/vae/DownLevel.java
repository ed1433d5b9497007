package dev.ldm4j.vae;

import dev.ldm4j.nn.Weights;
import dev.ldm4j.nn.BlockScope;
import java.util.ArrayList;
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

    Tensor forward(Tensor x) {
        return BlockScope.chain(x, stages());
    }

    /** The level's blocks in order, for a caller that chains several levels (see {@link BlockScope#chain}). */
    List<UnaryOperator<Tensor>> stages() {
        List<UnaryOperator<Tensor>> s = new ArrayList<>();
        for (int j = 0; j < block.length; j++) {
            s.add(block[j]::forward);
            if (attn.length > 0) {
                s.add(attn[j]::forward);
            }
        }
        if (downsample != null) {
            s.add(downsample::forward);
        }
        return s;
    }
}
