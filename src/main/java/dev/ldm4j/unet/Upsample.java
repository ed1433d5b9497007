package dev.ldm4j.unet;

import dev.ldm4j.nn.Conv2d;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/**
 * Nearest-neighbour 2x, then a 3x3 convolution ({@code conv}). When the latent is not a multiple of the
 * UNet's total downsampling, the skip connection it meets next is one pixel smaller than 2x; the UNet then
 * asks for that size instead (as diffusers does), which for every other size is the same 2x.
 */
final class Upsample implements UNetLayer {
    private final Conv2d conv;

    Upsample(Weights w, int channels) {
        conv = new Conv2d(w.sub("conv"), channels, channels, 3);
    }

    @Override
    public Tensor forward(Tensor h, Tensor emb, Tensor context) {
        return conv.forward(Ops.upsampleNearest2x(h));
    }

    Tensor forward(Tensor h, long height, long width) {
        return conv.forward(org.bytedeco.pytorch.global.torch.upsample_nearest2d(h, new long[] {height, width}));
    }
}
