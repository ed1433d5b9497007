package dev.ldm4j.model;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.nn.ComputeDevice;
import dev.ldm4j.text.PromptChunker;
import dev.ldm4j.text.TextEncoder;
import dev.ldm4j.text.WeightedPromptEncoder;
import dev.ldm4j.unet.Conditioning;
import java.util.List;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Prompts and request inputs to the {@link Conditioning} of one batch, for a family with one text tower
 * (SD 1.x, 2.x): the prompts in AUTOMATIC1111's syntax (weights in brackets, BREAK, prompts longer than 75 tokens
 * in 77-token chunks) as cross-attention context, and an inpainting model's mask and masked-image latent as
 * concat channels.
 */
final class TextConditioner implements Conditioner {
    private final TextEncoder text;
    private final WeightedPromptEncoder prompts;
    private final ComputeDevice device;

    TextConditioner(TextEncoder text, PromptChunker chunker, ComputeDevice device) {
        this.text = text;
        this.prompts = new WeightedPromptEncoder(chunker);
        this.device = device;
    }

    /**
     * Text conditioning [B, 77 * k, context_dim] for each prompt, float32 on the CPU. {@code clipSkip} 0 uses the
     * model's own layer; k >= 1 is the k-th layer from the end (AUTOMATIC1111's CLIP skip).
     */
    @Override
    public Tensor encodePrompts(List<String> texts, int clipSkip) {
        UnaryOperator<Tensor> layer = WeightedPromptEncoder.layer(text, clipSkip);
        // the emphasis rescaling and everything after the encoder work in float32, whatever the encoder's dtype
        return prompts.encodeBatch(texts, ids -> ComputeDevice.toCpuFloat(layer.apply(device.to(ids, ScalarType.Long))));
    }

    @Override
    public Conditioning condition(List<String> texts, Inputs inputs) {
        if (inputs.sizes() != null) {
            throw new BadRequestException("size conditioning (--original-size, --crop, --target-size) is SDXL's; "
                    + "this model does not take it");
        }
        return Conditioning.crossAttn(encodePrompts(texts, inputs.clipSkip())).withConcat(inputs.concat());
    }
}
