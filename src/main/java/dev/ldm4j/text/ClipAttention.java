package dev.ldm4j.text;

import dev.ldm4j.nn.Linear;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/** {@code self_attn}: causal multi-head self-attention with separate, biased q/k/v/out projections. */
final class ClipAttention {
    private final Linear qProj;
    private final Linear kProj;
    private final Linear vProj;
    private final Linear outProj;
    private final long heads;

    ClipAttention(Weights w, ClipTextConfig c) {
        long d = c.hiddenSize();
        this.qProj = new Linear(w.sub("q_proj"), d, d);
        this.kProj = new Linear(w.sub("k_proj"), d, d);
        this.vProj = new Linear(w.sub("v_proj"), d, d);
        this.outProj = new Linear(w.sub("out_proj"), d, d);
        this.heads = c.numAttentionHeads();
    }

    Tensor forward(Tensor x) {
        Tensor o = Ops.attention(qProj.forward(x), kProj.forward(x), vProj.forward(x), heads, true);
        return outProj.forward(o);
    }
}
