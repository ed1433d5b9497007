package dev.ldm4j.pipeline;

import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.MemoryPlan;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.model.ModelSource;
import dev.ldm4j.sampling.SeededNoise;
import dev.ldm4j.sampling.StepListener;
import dev.ldm4j.vae.TiledDecode;
import org.bytedeco.pytorch.Tensor;

/**
 * The one request-level entry point: the CLI, the Java API, the HTTP server and batch jobs all call it. It
 * picks the task from the request (text-to-image without an init image; image-to-image or inpainting with
 * one) and owns the policies around it: tiled decoding of large images, and the float32 rerun of a
 * half-precision result with NaN or Inf ({@link Float32Fallback}). Stateless apart from its model and options,
 * so one generator may serve concurrent requests.
 */
public final class Generator {
    /**
     * @param vaeTiling decode in tiles (true), whole (false), or only above {@link TiledDecode#AUTO_PIXELS} (null)
     * @param refiner   null, or a second model that takes over the denoising at the end ({@link Refiner})
     * @param hires     null, or AUTOMATIC1111's hires fix for text-to-image requests ({@link HiresFix})
     */
    public record Options(Boolean vaeTiling, Refiner refiner, HiresFix hires) {
        public static final Options DEFAULT = new Options(null, null, null);

        public Options(Boolean vaeTiling, Refiner refiner) {
            this(vaeTiling, refiner, null);
        }

        public Options(Boolean vaeTiling) {
            this(vaeTiling, null, null);
        }

        /** These options with a hires fix (null: none). */
        public Options withHires(HiresFix h) {
            return new Options(vaeTiling, refiner, h);
        }

        boolean tiled(GenerationRequest r) {
            return TiledDecode.wanted(vaeTiling, (long) r.width() * r.height());
        }
    }

    /**
     * An SDXL refiner as a second expert (diffusers' denoising_end / denoising_start, AUTOMATIC1111's "switch
     * at"): the base model denoises while the timestep is at least (1 - switchAt) * 1000, the refiner the rest
     * of the same sampler run, each with its own conditioning. The sampler's state carries across the switch.
     *
     * @param switchAt the fraction of the noise schedule (by timestep) the base model covers, in (0, 1]
     */
    public record Refiner(LatentDiffusionModel model, double switchAt) {
        public Refiner {
            java.util.Objects.requireNonNull(model, "model");
            if (!(switchAt > 0 && switchAt <= 1)) {
                throw new dev.ldm4j.io.BadRequestException("--refiner-switch must be in (0, 1], got " + switchAt);
            }
        }

        /** The timestep below which the refiner runs (diffusers' discrete_timestep_cutoff). */
        float cutoff(int timesteps) {
            return (float) Math.round(timesteps - switchAt * timesteps);
        }
    }

    private final LatentDiffusionModel model;
    private final Options options;

    public Generator(LatentDiffusionModel model, Options options) {
        this.model = model;
        this.options = options == null ? Options.DEFAULT : options;
        Refiner refiner = this.options.refiner();
        if (refiner != null && (refiner.model().latentChannels() != model.latentChannels()
                || refiner.model().downscaleFactor() != model.downscaleFactor()
                || refiner.model().schedule().size() != model.schedule().size())) {
            throw new dev.ldm4j.io.BadRequestException("the refiner " + refiner.model().name() + " does not share "
                    + model.name() + "'s latent space and noise schedule");
        }
    }

    public Generator(LatentDiffusionModel model) {
        this(model, Options.DEFAULT);
    }

    public LatentDiffusionModel model() {
        return model;
    }

    /** Checks what can be checked before any work: size, init image, sampler and scheduler names. */
    public void validate(GenerationRequest r) {
        if (options.hires() != null) {
            hiresOnly(r);
            new HiresPass(model, options).plannedSteps(r);
        } else if (model.config().upscaler()) {
            new Upscale(model, options).validate(r);
        } else if (r.init() == null) {
            new TextToImage(model, options).validate(r);
        } else {
            new ImageToImage(model, options).validate(r);
        }
    }

    /** The number of sampler steps the request runs (fewer than its steps for image-to-image below strength 1). */
    public int plannedSteps(GenerationRequest r) {
        if (options.hires() != null) {
            hiresOnly(r);
            return new HiresPass(model, options).plannedSteps(r);
        }
        if (model.config().upscaler()) {
            return new Upscale(model, options).validate(r);
        }
        if (r.init() == null) {
            return new TextToImage(model, options).validate(r);
        }
        return new ImageToImage(model, options).plannedSteps(r);
    }

    /**
     * The memory plan of running {@code r} on the model {@code load} describes, from the checkpoint's header
     * alone (nothing is loaded): where only a whole-image decode keeps it from fitting in {@code availableBytes}
     * and tiling was not chosen either way, the plan decodes in tiles (see {@link MemoryPlan#fitting}).
     */
    public static MemoryPlan memoryPlan(ModelLoader.Options load, GenerationRequest r, Options options,
                                        long availableBytes) {
        try (ModelSource m = ModelSource.open(load.model(), load.config())) {
            if (m.config().upscaler() && r.init() != null) {
                // the latent is the input's size, run in UNet tiles; the decode is the factor larger
                int f = m.config().vae().downscaleFactor();
                return MemoryPlan.fitting(m.file(), m.config(), load.precision(), load.vaePrecision(),
                        options.vaeTiling(), f * r.init().image().width(), f * r.init().image().height(),
                        r.batchSize(), r.cfgScale() != 1.0, Upscale.TILE, availableBytes);
            }
            return MemoryPlan.fitting(m.file(), m.config(), load.precision(), load.vaePrecision(), options.vaeTiling(),
                    r.width(), r.height(), r.batchSize(), r.cfgScale() != 1.0, availableBytes);
        }
    }

    /** Runs the request; {@code listener} hears every sampler step. The result must be closed. */
    public GenerationResult generate(GenerationRequest r, StepListener listener) {
        if (options.hires() != null) {
            hiresOnly(r);
            return Float32Fallback.run(model, m -> new HiresPass(m, options).generate(r, listener));
        }
        return Float32Fallback.run(model, m -> m.config().upscaler() ? new Upscale(m, options).generate(r, listener)
                : r.init() == null ? new TextToImage(m, options).generate(r, listener)
                : r.init().mask() != null && r.init().maskOptions() != null
                        ? new MaskedInpaint(m, options).generate(r, listener)
                : new ImageToImage(m, options).generate(r, listener));
    }

    private void hiresOnly(GenerationRequest r) {
        if (r.init() != null || model.config().upscaler()) {
            throw new dev.ldm4j.io.BadRequestException("the hires fix applies to text-to-image only (no init "
                    + "image, not the x4 upscaler)");
        }
    }

    /**
     * Text-to-image from a given x_T [B, 4, h, w] (unit Gaussian), with the sampler's later draws taken from
     * {@code noise}; the request's seed and size are not used. For comparisons with reference runs that
     * supply their own x_T; no float32 rerun.
     */
    public GenerationResult generateFrom(GenerationRequest r, Tensor xT, SeededNoise noise, StepListener listener) {
        return new TextToImage(model, options).generate(r, xT, noise, listener);
    }
}
