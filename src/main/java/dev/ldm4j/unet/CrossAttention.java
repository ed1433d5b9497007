package dev.ldm4j.unet;

import dev.ldm4j.nn.Linear;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/** ldm.modules.attention.CrossAttention: bias-free to_q/to_k/to_v, to_out.0 with bias, scale dim_head^-0.5. */
final class CrossAttention {
    private final Linear toQ;
    private final Linear toK;
    private final Linear toV;
    private final Linear toOut;
    private final int heads;

    CrossAttention(Weights w, int queryDim, int contextDim, int heads, int dimHead) {
        int inner = heads * dimHead;
        this.heads = heads;
        toQ = new Linear(w.sub("to_q"), queryDim, inner, false);
        toK = new Linear(w.sub("to_k"), contextDim, inner, false);
        toV = new Linear(w.sub("to_v"), contextDim, inner, false);
        toOut = new Linear(w.sub("to_out").sub(0), inner, queryDim);
    }

    /** x [B, N, queryDim]; context [B, M, contextDim] (x itself for self-attention). */
    Tensor forward(Tensor x, Tensor context) {
        Tensor o = Ops.attention(toQ.forward(x), toK.forward(context), toV.forward(context), heads, false);
        return toOut.forward(o);
    }
}
