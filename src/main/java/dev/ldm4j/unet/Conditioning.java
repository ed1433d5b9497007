package dev.ldm4j.unet;

import dev.ldm4j.nn.Ops;
import org.bytedeco.pytorch.Tensor;

/**
 * What the UNet is conditioned on for one batch: CompVis's {@code c_crossattn} / {@code c_concat} / {@code y},
 * stable-diffusion.cpp's {@code SDCondition}. Tensors are float32 on the CPU (or int64 labels); the UNet moves
 * them to its device and dtype.
 *
 * @param crossAttn context {@code [B, M, context_dim]} the transformers attend to
 * @param concat    null, or extra input channels {@code [B, c, h, w]} appended to the latent (an inpainting
 *                  model's mask and masked-image latent)
 * @param vector    null, or what the UNet's {@code label_emb} embeds and adds to the time embedding (class labels
 *                  {@code [B]} int64 for a class-conditional UNet)
 */
public record Conditioning(Tensor crossAttn, Tensor concat, Tensor vector) {
    public Conditioning {
        if (crossAttn == null) {
            throw new IllegalArgumentException("a cross-attention context is required");
        }
    }

    /** Text conditioning alone. */
    public static Conditioning crossAttn(Tensor context) {
        return new Conditioning(context, null, null);
    }

    public Conditioning withConcat(Tensor c) {
        return new Conditioning(crossAttn, c, vector);
    }

    public Conditioning withVector(Tensor v) {
        return new Conditioning(crossAttn, concat, v);
    }

    /**
     * Whether {@code this} and {@code other} can be stacked along the batch into one UNet call: the same
     * context length (prompts of equal chunk counts) and the same optional parts.
     */
    public boolean stacksWith(Conditioning other) {
        return crossAttn.size(1) == other.crossAttn.size(1) && (concat == null) == (other.concat == null)
                && (vector == null) == (other.vector == null);
    }

    /** {@code first} then {@code second}, each part concatenated along the batch (see {@link #stacksWith}). */
    public static Conditioning stack(Conditioning first, Conditioning second) {
        if (!first.stacksWith(second)) {
            throw new IllegalArgumentException("conditionings of different shapes cannot share a batch");
        }
        return new Conditioning(Ops.cat(0, first.crossAttn, second.crossAttn), catOrNull(first.concat, second.concat),
                catOrNull(first.vector, second.vector));
    }

    private static Tensor catOrNull(Tensor a, Tensor b) {
        return a == null ? null : Ops.cat(0, a, b);
    }
}
