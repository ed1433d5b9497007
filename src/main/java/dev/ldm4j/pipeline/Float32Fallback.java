package dev.ldm4j.pipeline;

import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.nn.ComputeDevice;
import dev.ldm4j.nn.Kernels;
import dev.ldm4j.nn.Precision;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Half precision can overflow on some models and prompts; a NaN latent decodes to a black image. A result
 * with NaN or Inf from a half-precision model is thrown away and the request re-run on the model's float32
 * copy, with a warning, rather than writing a black image; a result that is not finite in float32 either is a
 * {@link NonFiniteResultException}. The same when a half-precision kernel is found
 * wrong on this CPU ({@link Kernels.HalfPrecisionUnavailable}): the fast half-precision kernels are oneDNN's.
 * A float32 request during which oneDNN was switched off is run once more, all on the same kernels, so that a
 * seed gives the same pixels in the first request of a process as in every later one.
 */
final class Float32Fallback {
    private static final Logger LOG = LoggerFactory.getLogger(Float32Fallback.class);

    private Float32Fallback() {}

    static GenerationResult run(LatentDiffusionModel model, Function<LatentDiffusionModel, GenerationResult> request) {
        // (model.float32() loads a second model: ask it only once a half-precision run is known to be wrong)
        if (model.precision() != Precision.FP32 && model.device() == ComputeDevice.CPU && !Kernels.oneDnnEnabled()) {
            // oneDNN was found wrong here earlier: libtorch's own half-precision kernels are scalar code
            return requireFinite(request.apply(model.float32()));
        }
        boolean oneDnnBefore = Kernels.oneDnnEnabled();
        GenerationResult result;
        try {
            result = request.apply(model);
        } catch (Kernels.HalfPrecisionUnavailable e) {
            LOG.warn("{} needs oneDNN, which computes wrong results on this CPU; running the request in float32",
                    model.precision().cliName());
            return requireFinite(request.apply(model.float32()));
        }
        if (oneDnnBefore && !Kernels.oneDnnEnabled()) {
            // oneDNN was switched off part-way: the steps before used its (checked) kernels, the rest
            // libtorch's, whose last bits differ; run again so that this result equals every later one
            result.close();
            result = request.apply(model);
        }
        if (finite(result)) {
            return result;
        }
        result.close();
        LatentDiffusionModel fp32 = model.float32();
        if (fp32 == model) {
            throw nonFinite();
        }
        LOG.warn("NaN or Inf in the {} result; running the request again in float32", model.precision().cliName());
        return requireFinite(request.apply(fp32));
    }

    private static GenerationResult requireFinite(GenerationResult result) {
        if (!finite(result)) {
            result.close();
            throw nonFinite();
        }
        return result;
    }

    private static NonFiniteResultException nonFinite() {
        return new NonFiniteResultException("the result has NaN or Inf values in float32: the model's weights are "
                + "broken or the request overflows (a huge --cfg-scale or prompt weight); no image was written");
    }

    static boolean finite(GenerationResult r) {
        return r.latents().isfinite().all().item().toBool() && r.images().isfinite().all().item().toBool();
    }
}
