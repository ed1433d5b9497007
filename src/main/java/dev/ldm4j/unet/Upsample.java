package dev.ldm4j.unet;

import dev.ldm4j.nn.Conv2d;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/** Nearest-neighbour 2x, then a 3x3 convolution ({@code conv}). */
final class Upsample implements UNetLayer {
    private final Conv2d conv;

    Upsample(Weights w, int channels) {
        conv = new Conv2d(w.sub("conv"), channels, channels, 3);
    }

    @Override
    public Tensor forward(Tensor h, Tensor emb, Tensor context) {
        return conv.forward(Ops.upsampleNearest2x(h));
    }
}
