package dev.ldm4j.unet;

import dev.ldm4j.nn.LayerNorm;
import dev.ldm4j.nn.Linear;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/** Self-attention, cross-attention and a GEGLU feed-forward, each pre-LayerNorm with a residual. */
final class BasicTransformerBlock {
    private final LayerNorm norm1;
    private final LayerNorm norm2;
    private final LayerNorm norm3;
    private final CrossAttention attn1;
    private final CrossAttention attn2;
    private final Linear ffProj;
    private final Linear ffOut;
    private final boolean attn1OnContext;

    BasicTransformerBlock(Weights w, int dim, int heads, int dimHead, int contextDim, boolean disableSelfAttn) {
        attn1OnContext = disableSelfAttn;
        attn1 = new CrossAttention(w.sub("attn1"), dim, disableSelfAttn ? contextDim : dim, heads, dimHead);
        attn2 = new CrossAttention(w.sub("attn2"), dim, contextDim, heads, dimHead);
        int inner = dim * 4;
        ffProj = new Linear(w.sub("ff").sub("net").sub(0).sub("proj"), dim, inner * 2);
        ffOut = new Linear(w.sub("ff").sub("net").sub(2), inner, dim);
        norm1 = new LayerNorm(w.sub("norm1"), dim, 1e-5);
        norm2 = new LayerNorm(w.sub("norm2"), dim, 1e-5);
        norm3 = new LayerNorm(w.sub("norm3"), dim, 1e-5);
    }

    Tensor forward(Tensor x, Tensor context) {
        Tensor n1 = norm1.forward(x);
        x = x.add(attn1.forward(n1, attn1OnContext ? context : n1));
        x = x.add(attn2.forward(norm2.forward(x), context));
        // GEGLU: the first half of the projection is the value, the second half the gate. Views by narrow,
        // not chunk: a TensorVector's elements are references into it, dangling once the vector is collected
        Tensor proj = ffProj.forward(norm3.forward(x));
        long half = proj.size(-1) / 2;
        Tensor ff = proj.narrow(-1, 0, half).mul(Ops.gelu(proj.narrow(-1, half, half)));
        return x.add(ffOut.forward(ff));
    }
}
