package dev.ldm4j.text;

import org.bytedeco.pytorch.Tensor;

/**
 * A text transformer that turns token ids into the cross-attention context of the UNet. Which layer the
 * context comes from (CLIP skip, OpenCLIP "penultimate") is fixed when the encoder is built.
 */
public interface TextEncoder {
    /** Token ids {@code [B, N]} int64, N at most {@link #maxLength()}, to context {@code [B, N, contextDim]}. */
    Tensor encode(Tensor inputIds);

    /**
     * Context from the hidden states of layer {@code layerFromEnd} counted from the end (1 = the last layer,
     * 2 = the penultimate: AUTOMATIC1111's CLIP skip), through the final LayerNorm; later layers are not run.
     */
    Tensor encode(Tensor inputIds, int layerFromEnd);

    /** The tower's sizes in the names of an LDM YAML's {@code text_model_config} (what re-creates it). */
    java.util.Map<String, Object> textModelConfig();

    /** Width of each context vector (the UNet's {@code context_dim}). */
    int contextDim();

    /** Number of positions the encoder has embeddings for (77 for every SD text encoder). */
    int maxLength();
}
