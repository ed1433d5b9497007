package dev.ldm4j.model;

import dev.ldm4j.unet.Conditioning;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Prompts and request inputs to the {@link Conditioning} of one guidance branch, one per family: text towers,
 * an inpainting model's mask channels, SDXL's sizes. Made by the model's {@link Architecture}.
 */
public interface Conditioner {
    /**
     * What one branch of a request brings besides its prompts.
     *
     * @param clipSkip 0 = the model's own text layer; k >= 1 = the k-th layer from the end
     * @param concat   null, or extra UNet input channels [B, c, h, w] (an inpainting model's mask and
     *                 masked-image latent)
     * @param width    the image's width in pixels (SDXL's size conditioning)
     * @param height   the image's height in pixels
     * @param negative whether this is the unconditional branch (SDXL zeroes an empty negative prompt's text)
     * @param sizes    SDXL's size conditioning; null: original = target = the image's size, crop (0, 0), as
     *                 diffusers and AUTOMATIC1111 send it
     */
    record Inputs(int clipSkip, Tensor concat, int width, int height, boolean negative, Sizes sizes) {
        public Inputs(int clipSkip, Tensor concat, int width, int height, boolean negative) {
            this(clipSkip, concat, width, height, negative, null);
        }

        /** The six numbers of SDXL's size conditioning, in its order. */
        public Sizes sizesOrDefault() {
            return sizes != null ? sizes : new Sizes(height, width, 0, 0, height, width);
        }
    }

    /** SDXL's micro-conditioning (sgm's original_size_as_tuple, crop_coords_top_left, target_size_as_tuple). */
    record Sizes(int originalHeight, int originalWidth, int cropTop, int cropLeft, int targetHeight, int targetWidth) {
        long[] values() {
            return new long[] {originalHeight, originalWidth, cropTop, cropLeft, targetHeight, targetWidth};
        }
    }

    /** The conditioning of a batch of prompts, one per image. */
    Conditioning condition(List<String> prompts, Inputs inputs);

    /**
     * Text conditioning [B, 77 * k, context_dim] for each prompt, float32 on the CPU, in AUTOMATIC1111's prompt
     * syntax; {@code clipSkip} as in {@link Inputs}.
     */
    Tensor encodePrompts(List<String> prompts, int clipSkip);
}
