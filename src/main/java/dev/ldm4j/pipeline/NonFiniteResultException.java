package dev.ldm4j.pipeline;

import dev.ldm4j.io.BadRequestException;

/**
 * A generation whose latents or image hold NaN or Inf even in float32: the model's weights are broken, or the
 * request overflows (a guidance scale of 1e30, a prompt weight like 1.1^10000). Thrown instead of handing back
 * a black picture.
 */
public final class NonFiniteResultException extends BadRequestException {
    NonFiniteResultException(String message) {
        super(message);
    }
}
