package dev.ldm4j.pipeline;

import org.bytedeco.pytorch.Tensor;

/**
 * The outcome of a request: images [B, 3, H, W] in [0, 1] and the final diffusion latents [B, 4, h, w]. Both
 * outlive the request's scope; {@link #close()} frees them.
 */
public record GenerationResult(GenerationRequest request, Tensor images, Tensor latents) implements AutoCloseable {
    @Override
    public void close() {
        images.releaseReference();
        latents.releaseReference();
    }
}
