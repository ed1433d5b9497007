package dev.ldm4j.vae;

import dev.ldm4j.nn.BlockScope;
import dev.ldm4j.nn.Conv2d;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Halves the resolution with a 3x3 stride-2 convolution. The autoencoder pads only right and bottom (by 1)
 * and the convolution itself pads nothing: symmetric padding 1 would shift every latent by half a pixel.
 */
final class Downsample {
    /** (left, right, top, bottom) zero padding of the last two dimensions. */
    private static final long[] PAD_RIGHT_BOTTOM = {0, 1, 0, 1};

    private final Conv2d conv;

    Downsample(Weights w, long channels) {
        this.conv = new Conv2d(w.sub("conv"), channels, channels, 3, 2, 0, true);
    }

    Tensor forward(Tensor x) {
        return BlockScope.run(() -> conv.forward(torch.constant_pad_nd(x, PAD_RIGHT_BOTTOM)));
    }
}
