package dev.ldm4j.vae;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Tensor;

/** The stages of one encoder or decoder level, in order, for {@link dev.ldm4j.nn.BlockScope#chain}. */
final class LevelStages {
    private LevelStages() {}

    /**
     * Each ResnetBlock followed by its attention block (when the level has attention), then the resampling
     * (null: none, at the encoder's last and the decoder's first level).
     */
    static List<UnaryOperator<Tensor>> of(ResnetBlock[] block, AttnBlock[] attn, UnaryOperator<Tensor> resample) {
        List<UnaryOperator<Tensor>> s = new ArrayList<>();
        for (int j = 0; j < block.length; j++) {
            s.add(block[j]::forward);
            if (attn.length > 0) {
                s.add(attn[j]::forward);
            }
        }
        if (resample != null) {
            s.add(resample);
        }
        return s;
    }
}
