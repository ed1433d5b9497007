package dev.ldm4j.pipeline;

import dev.ldm4j.model.StableDiffusion;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Half precision can overflow on some models and prompts; a NaN latent decodes to a black image. A result
 * with NaN or Inf from a half-precision model is thrown away and the request re-run on the model's float32
 * copy, with a warning, rather than writing a black image.
 */
final class Float32Fallback {
    private static final Logger LOG = LoggerFactory.getLogger(Float32Fallback.class);

    private Float32Fallback() {}

    static GenerationResult run(StableDiffusion model, Function<StableDiffusion, GenerationResult> request) {
        GenerationResult result = request.apply(model);
        if (finite(result)) {
            return result;
        }
        StableDiffusion fp32 = model.float32();
        if (fp32 == model) {
            LOG.warn("the result has NaN or Inf values even in float32; the model or the request is broken");
            return result;
        }
        result.close();
        LOG.warn("NaN or Inf in the {} result; running the request again in float32", model.precision().cliName());
        return request.apply(fp32);
    }

    static boolean finite(GenerationResult r) {
        return r.latents().isfinite().all().item().toBool() && r.images().isfinite().all().item().toBool();
    }
}
