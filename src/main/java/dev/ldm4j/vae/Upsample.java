package dev.ldm4j.vae;

import dev.ldm4j.nn.BlockScope;
import dev.ldm4j.nn.Conv2d;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/** Doubles the resolution: nearest-neighbour 2x, then a 3x3 convolution. */
final class Upsample {
    private final Conv2d conv;

    Upsample(Weights w, long channels) {
        this.conv = new Conv2d(w.sub("conv"), channels, channels, 3);
    }

    Tensor forward(Tensor x) {
        return BlockScope.run(() -> conv.forward(Ops.upsampleNearest2x(x)));
    }
}
