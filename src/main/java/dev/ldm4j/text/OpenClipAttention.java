package dev.ldm4j.text;

import dev.ldm4j.nn.Kernels;
import dev.ldm4j.nn.Linear;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * {@code attn}: torch {@code nn.MultiheadAttention} layout, q/k/v packed into one projection
 * ({@code in_proj_weight} [3 width, width] = q, k, v row blocks), causal.
 */
final class OpenClipAttention {
    private final Tensor inProjWeight;
    private final TensorOptional inProjBias;
    private final Linear outProj;
    private final long heads;

    OpenClipAttention(Weights w, OpenClipTextConfig c) {
        long d = c.width();
        this.inProjWeight = w.get("in_proj_weight", 3 * d, d);
        this.inProjBias = dev.ldm4j.nn.Tensors.retain(new TensorOptional(w.get("in_proj_bias", 3 * d)));
        this.outProj = new Linear(w.sub("out_proj"), d, d);
        this.heads = c.heads();
    }

    Tensor forward(Tensor x) {
        // q, k, v by narrow (owned views), not chunk (references into a vector the GC may free first)
        Tensor qkv = Kernels.linear(x, inProjWeight, inProjBias.get(), null);
        long d = qkv.size(-1) / 3;
        Tensor o = Ops.attention(qkv.narrow(-1, 0, d), qkv.narrow(-1, d, d), qkv.narrow(-1, 2 * d, d), heads, true);
        return outProj.forward(o);
    }
}
