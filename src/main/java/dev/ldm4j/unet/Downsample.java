package dev.ldm4j.unet;

import dev.ldm4j.nn.Conv2d;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/** 3x3 convolution with stride 2 and padding 1 ({@code op}). */
final class Downsample implements UNetLayer {
    private final Conv2d op;

    Downsample(Weights w, int channels) {
        op = new Conv2d(w.sub("op"), channels, channels, 3, 2, 1, true);
    }

    @Override
    public Tensor forward(Tensor h, Tensor emb, Tensor context) {
        return op.forward(h);
    }
}
