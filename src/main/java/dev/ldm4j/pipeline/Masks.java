package dev.ldm4j.pipeline;

import static dev.ldm4j.nn.Ops.s;

import dev.ldm4j.io.GrayImage;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Inpainting masks as the reference code makes them: 1 = repaint, 0 = keep, at image size from the 8-bit file and
 * at latent size by nearest-neighbour sampling.
 */
final class Masks {
    private Masks() {}

    /** [1, 1, H, W] float32: 1 where L / 255 >= 0.5, else 0. */
    static Tensor read(GrayImage mask) {
        return ImageTensors.toFloat(mask).ge(s(0.5)).to(ScalarType.Float);
    }

    /** [1, 1, H, W] of ones: repaint everything. */
    static Tensor everywhere(long height, long width) {
        return torch.ones(new long[] {1, 1, height, width}, Tensors.options(ScalarType.Float));
    }

    /**
     * The mask at latent size [B, 1, h, w] as torch's interpolate(mode "nearest") makes it: latent pixel (i, j)
     * takes image pixel (floor(i * H / h), floor(j * W / w)). AUTOMATIC1111 resizes with PIL instead, which
     * differs where the mask's edges fall inside a latent pixel.
     */
    static Tensor toLatent(Tensor mask, long batch, long h, long w) {
        return torch.upsample_nearest2d(mask, new long[] {h, w}).expand(batch, -1, -1, -1);
    }

    /** image * (mask < 0.5): the area to repaint becomes 0, mid-grey in [-1, 1]. */
    static Tensor maskedImage(Tensor image, Tensor mask) {
        return image.mul(mask.lt(s(0.5)).to(ScalarType.Float));
    }

    /** 1 - mask. */
    static Tensor keep(Tensor mask) {
        return torch.ones_like(mask).sub(mask);
    }

    /** An inpainting UNet's extra input channels: cat([mask (1), masked image latent (4)]). */
    static Tensor conditioning(Tensor latentMask, Tensor maskedImageLatent) {
        return Ops.cat(1, latentMask, maskedImageLatent);
    }
}
