package dev.ldm4j.train.vae;

import dev.ldm4j.nn.Conv2d;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Weights;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * The PatchGAN discriminator of pix2pix as latent diffusion's autoencoder loss uses it ({@code
 * loss.discriminator}): 4x4 convolutions, {@code layers} of them with stride 2, each but the first followed by
 * BatchNorm, LeakyReLU(0.2) throughout, then a stride-1 block and a 1-channel output, so each output value
 * judges one patch of the image. Parameter names follow the reference's {@code main.<index>} Sequential.
 *
 * <p>BatchNorm always normalises with the batch's own statistics (the discriminator is never run in eval
 * mode), so no running statistics are kept.
 */
final class PatchDiscriminator {
    private static final double SLOPE = 0.2;
    private static final double BN_EPS = 1e-5;

    private record Layer(Conv2d conv, TensorOptional bnWeight, TensorOptional bnBias, boolean activation) {}

    private final List<Layer> layers = new ArrayList<>();

    /**
     * @param w        weights below {@code loss.discriminator.}
     * @param in       image channels
     * @param channels channels of the first layer (ndf)
     * @param n        strided layers
     */
    PatchDiscriminator(Weights w, int in, int channels, int n) {
        Weights main = w.sub("main");
        layers.add(new Layer(new Conv2d(main.sub(0), in, channels, 4, 2, 1, true), null, null, true));
        int index = 2;
        int mult = 1;
        for (int k = 1; k <= n; k++) {
            int prev = mult;
            mult = Math.min(1 << k, 8);
            int stride = k < n ? 2 : 1;
            Conv2d conv = new Conv2d(main.sub(index), (long) channels * prev, (long) channels * mult, 4, stride, 1,
                    false);
            Weights bn = main.sub(index + 1);
            long c = (long) channels * mult;
            layers.add(new Layer(conv, Tensors.retain(new TensorOptional(bn.get("weight", c))),
                    Tensors.retain(new TensorOptional(bn.get("bias", c))), true));
            index += 3;
        }
        layers.add(new Layer(new Conv2d(main.sub(index), (long) channels * mult, 1, 4, 1, 1, true), null, null,
                false));
    }

    /** Logits [B, 1, p, p] for images [B, 3, N, N] in [-1, 1]. */
    Tensor forward(Tensor x) {
        Tensor h = x;
        for (Layer l : layers) {
            h = l.conv().forward(h);
            if (l.bnWeight() != null) {
                h = torch.batch_norm(h, l.bnWeight(), l.bnBias(), new TensorOptional(), new TensorOptional(), true,
                        0.1, BN_EPS, false);
            }
            if (l.activation()) {
                h = torch.leaky_relu(h, Ops.s(SLOPE));
            }
        }
        return h;
    }

    /** p, the side of the logit map for images of side {@code size}. */
    static int patchesPerSide(int size, int layers) {
        int s = size;
        for (int k = 0; k < layers; k++) {
            s = Math.floorDiv(s - 2, 2) + 1;
        }
        // the stride-1 block and the output layer each take one off
        return s - 2;
    }
}
