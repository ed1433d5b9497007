package dev.ldm4j.unet;

import dev.ldm4j.nn.Conv2d;
import dev.ldm4j.nn.GroupNorm;
import dev.ldm4j.nn.Linear;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/**
 * GroupNorm, proj_in, transformer blocks over the H*W tokens, proj_out, plus the input. SD 1.x projects with
 * 1x1 convolutions before flattening; SD 2.x (use_linear_in_transformer) flattens first and uses Linear.
 */
final class SpatialTransformer implements UNetLayer {
    private final GroupNorm norm;
    private final Conv2d projInConv;
    private final Conv2d projOutConv;
    private final Linear projInLinear;
    private final Linear projOutLinear;
    private final BasicTransformerBlock[] blocks;
    private final int inner;

    SpatialTransformer(Weights w, int channels, int heads, int dimHead, int depth, int contextDim, boolean linear,
                       boolean disableSelfAttn) {
        inner = heads * dimHead;
        norm = new GroupNorm(w.sub("norm"), 32, channels, 1e-6);
        if (linear) {
            projInLinear = new Linear(w.sub("proj_in"), channels, inner);
            projOutLinear = new Linear(w.sub("proj_out"), inner, channels);
            projInConv = null;
            projOutConv = null;
        } else {
            projInConv = new Conv2d(w.sub("proj_in"), channels, inner, 1);
            projOutConv = new Conv2d(w.sub("proj_out"), inner, channels, 1);
            projInLinear = null;
            projOutLinear = null;
        }
        blocks = new BasicTransformerBlock[depth];
        for (int i = 0; i < depth; i++) {
            blocks[i] = new BasicTransformerBlock(w.sub("transformer_blocks").sub(i), inner, heads, dimHead,
                    contextDim, disableSelfAttn);
        }
    }

    @Override
    public Tensor forward(Tensor x, Tensor emb, Tensor context) {
        long b = x.size(0);
        long c = x.size(1);
        long h = x.size(2);
        long wd = x.size(3);
        Tensor t = norm.forward(x);
        if (projInConv != null) {
            t = projInConv.forward(t);
        }
        t = t.permute(0, 2, 3, 1).reshape(b, h * wd, projInConv != null ? inner : c);
        if (projInLinear != null) {
            t = projInLinear.forward(t);
        }
        for (BasicTransformerBlock block : blocks) {
            t = block.forward(t, context);
        }
        if (projOutLinear != null) {
            t = projOutLinear.forward(t);
            t = t.reshape(b, h, wd, c).permute(0, 3, 1, 2);
        } else {
            t = projOutConv.forward(t.reshape(b, h, wd, inner).permute(0, 3, 1, 2).contiguous());
        }
        return t.add(x);
    }
}
