package dev.ldm4j.model;

import dev.ldm4j.nn.ParameterSource;

/**
 * A change to the parameters a model is assembled from, applied while it loads: another layout's key map, a
 * LoRA merged into the weights. A patch wraps the source; the networks never know it is there.
 */
@FunctionalInterface
public interface ParameterPatch {
    /** {@code source} as the networks should see it; {@code taken()} must still list what they took. */
    ParameterSource apply(ParameterSource source, ModelConfig config);
}
