package dev.ldm4j.unet;

import dev.ldm4j.nn.Conv2d;
import dev.ldm4j.nn.GroupNorm;
import dev.ldm4j.nn.Linear;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/** openaimodel.ResBlock without scale-shift norm: in_layers, emb_layers, out_layers, skip_connection. */
final class ResBlock implements UNetLayer {
    private static final double EPS = 1e-5; // GroupNorm32 keeps torch's default eps

    private final GroupNorm inNorm;
    private final Conv2d inConv;
    private final Linear embLinear;
    private final GroupNorm outNorm;
    private final Conv2d outConv;
    private final Conv2d skip;

    ResBlock(Weights w, int channels, int embDim, int outChannels) {
        inNorm = new GroupNorm(w.sub("in_layers").sub(0), 32, channels, EPS);
        inConv = new Conv2d(w.sub("in_layers").sub(2), channels, outChannels, 3);
        embLinear = new Linear(w.sub("emb_layers").sub(1), embDim, outChannels);
        outNorm = new GroupNorm(w.sub("out_layers").sub(0), 32, outChannels, EPS);
        outConv = new Conv2d(w.sub("out_layers").sub(3), outChannels, outChannels, 3);
        skip = channels == outChannels ? null : new Conv2d(w.sub("skip_connection"), channels, outChannels, 1);
    }

    @Override
    public Tensor forward(Tensor x, Tensor emb, Tensor context) {
        Tensor h = inConv.forward(Ops.siluOfFresh(inNorm.forward(x)));
        Tensor e = embLinear.forward(Ops.silu(emb));
        h = h.add(e.view(e.size(0), e.size(1), 1, 1));
        h = outConv.forward(Ops.siluOfFresh(outNorm.forward(h)));
        return (skip == null ? x : skip.forward(x)).add(h);
    }
}
