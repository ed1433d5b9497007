package dev.ldm4j.text;

import dev.ldm4j.nn.LayerNorm;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/** {@code transformer.resblocks.N}: pre-LayerNorm block, x += attn(ln_1(x)); x += mlp(ln_2(x)). */
final class ResidualAttentionBlock {
    /** open_clip builds its LayerNorms with torch's default eps. */
    static final double LN_EPS = 1e-5;

    private final LayerNorm ln1;
    private final OpenClipAttention attn;
    private final LayerNorm ln2;
    private final OpenClipMlp mlp;

    ResidualAttentionBlock(Weights w, OpenClipTextConfig c) {
        this.ln1 = new LayerNorm(w.sub("ln_1"), c.width(), LN_EPS);
        this.attn = new OpenClipAttention(w.sub("attn"), c);
        this.ln2 = new LayerNorm(w.sub("ln_2"), c.width(), LN_EPS);
        this.mlp = new OpenClipMlp(w.sub("mlp"), c);
    }

    Tensor forward(Tensor x) {
        Tensor h = x.add(attn.forward(ln1.forward(x)));
        return h.add(mlp.forward(ln2.forward(h)));
    }
}
