package dev.ldm4j.pipeline;

import dev.ldm4j.sampling.SamplerKind;
import dev.ldm4j.sampling.Samplers;
import dev.ldm4j.sampling.Scheduler;
import java.util.Locale;

/** The AUTOMATIC1111 {@code parameters} text that image viewers and web UIs read from a PNG. */
public final class Parameters {
    private Parameters() {}

    /**
     * "prompt\nNegative prompt: ...\nSteps: 20, Sampler: Euler a, Schedule type: ..., ..., Model: name", with
     * ", Denoising strength: S" for image-to-image and inpainting requests (no mask blur: masks are used as given).
     */
    /** The sampler's A1111 name ("DPM++ 2M" for "DPM++ 2M Karras" too). */
    public static String sampler(GenerationRequest r) {
        try {
            return Samplers.choose(r.sampler(), r.scheduler()).kind().a1111Name();
        } catch (RuntimeException e) {
            return SamplerKind.find(r.sampler()).map(SamplerKind::a1111Name).orElse(r.sampler());
        }
    }

    /**
     * The scheduler the run used: the one named, or (none, "Automatic") the sampler's own, so that the text
     * reproduces the run wherever it is read.
     */
    public static Scheduler scheduler(GenerationRequest r) {
        try {
            return Samplers.choose(r.sampler(), r.scheduler()).scheduler();
        } catch (RuntimeException e) {
            return Scheduler.byName(r.scheduler());
        }
    }

    public static String a1111(GenerationRequest r, String modelName) {
        return a1111(r, modelName, null);
    }

    /**
     * As {@link #a1111(GenerationRequest, String)}, with AUTOMATIC1111's fields of a hires fix (Denoising strength,
     * Hires upscale or Hires resize, Hires steps, Hires upscaler) and of its inpainting options (Mask blur, Masked
     * content, Inpaint area, Masked area padding) where the request has them.
     */
    public static String a1111(GenerationRequest r, String modelName, HiresFix hires) {
        StringBuilder sb = new StringBuilder(r.prompt());
        if (!r.negativePrompt().isEmpty()) {
            sb.append("\nNegative prompt: ").append(r.negativePrompt());
        }
        sb.append("\nSteps: ").append(r.steps())
                .append(", Sampler: ").append(sampler(r))
                .append(", Schedule type: ").append(scheduler(r).a1111Name())
                .append(", CFG scale: ").append(number(r.cfgScale()))
                .append(", Seed: ").append(r.seed())
                .append(", Size: ").append(r.width()).append('x').append(r.height());
        if (modelName != null) {
            sb.append(", Model: ").append(modelName);
        }
        InitImage init = r.init();
        if (init != null) {
            sb.append(", Denoising strength: ").append(number(init.strength()));
            // not A1111 fields, written only when not the default, so that the text reproduces the run
            if (init.encoding() != InitImage.Encoding.SAMPLE) {
                sb.append(", VAE encoding: ").append(init.encoding().name().toLowerCase(Locale.ROOT));
            }
            if (init.noising() != InitImage.Noising.COMPVIS) {
                sb.append(", Img2img noising: ").append(init.noising().name().toLowerCase(Locale.ROOT));
            }
        }
        MaskOptions mo = init == null || init.mask() == null ? null : init.maskOptions();
        if (mo != null) {
            sb.append(", Mask blur: ").append(mo.blur());
            if (mo.invert()) {
                sb.append(", Mask mode: Inpaint not masked");
            }
            sb.append(", Masked content: ").append(switch (mo.content()) {
                case FILL -> "fill";
                case ORIGINAL -> "original";
                case LATENT_NOISE -> "latent noise";
                case LATENT_NOTHING -> "latent nothing";
            });
            if (mo.onlyMasked()) {
                sb.append(", Inpaint area: Only masked, Masked area padding: ").append(mo.padding());
            }
        }
        if (hires != null) {
            sb.append(", Denoising strength: ").append(number(hires.denoise()));
            if (hires.resizeX() == 0 && hires.resizeY() == 0) {
                sb.append(", Hires upscale: ").append(number(hires.scale()));
            } else {
                sb.append(", Hires resize: ").append(hires.resizeX()).append('x').append(hires.resizeY());
            }
            if (hires.steps() > 0) {
                sb.append(", Hires steps: ").append(hires.steps());
            }
            sb.append(", Hires upscaler: ").append(hires.upscaler());
        }
        if (r.eta() != 0) {
            sb.append(", Eta: ").append(number(r.eta()));
        }
        if (r.clipSkip() > 1) {
            sb.append(", Clip skip: ").append(r.clipSkip());
        }
        if (r.batchSize() > 1) {
            sb.append(", Batch size: ").append(r.batchSize());
        }
        return sb.append(", Version: ldm4j").toString();
    }

    private static String number(double v) {
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%s", v);
    }
}
