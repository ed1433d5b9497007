package dev.ldm4j.pipeline;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.model.Conditioner;
import dev.ldm4j.sampling.SamplerKind;
import dev.ldm4j.sampling.Samplers;
import dev.ldm4j.sampling.Scheduler;

/**
 * One generation request, in the terms a user gives it (stable-diffusion.cpp's spelling of samplers and
 * schedulers). {@code batchSize} images come from one x_T of shape [batchSize, 4, h, w] drawn from {@code seed}.
 * Without {@code init} it is text-to-image ({@link TextToImage}); with one, image-to-image or inpainting
 * ({@link ImageToImage}), and the init image must have the request's size. Every field is checked when the
 * request is made: a {@link BadRequestException} names what is wrong.
 *
 * @param clipSkip 0 = the model's default layer; k >= 1 = AUTOMATIC1111's CLIP skip k
 * @param init     null for text-to-image
 * @param sizes    SDXL's size conditioning; null for the default (original = target = the image size, crop 0)
 */
public record GenerationRequest(
        String prompt,
        String negativePrompt,
        int width,
        int height,
        int steps,
        double cfgScale,
        String sampler,
        String scheduler,
        double eta,
        long seed,
        int batchSize,
        int clipSkip,
        InitImage init,
        Conditioner.Sizes sizes) {

    /** More steps change nothing a user could see, and a schedule of 10^9 sigmas would not fit in memory. */
    public static final int MAX_STEPS = 10_000;
    /** Images of one run: one x_T of this batch goes through every UNet call. */
    public static final int MAX_BATCH = 64;
    /**
     * Characters of a prompt (and of a negative prompt): about 200 chunks of 75 tokens. Every chunk widens
     * the cross-attention context of every UNet call.
     */
    public static final int MAX_PROMPT_CHARS = 16_384;

    public GenerationRequest {
        if (prompt == null) {
            throw new BadRequestException("a prompt is required");
        }
        negativePrompt = negativePrompt == null ? "" : negativePrompt;
        if (prompt.length() > MAX_PROMPT_CHARS || negativePrompt.length() > MAX_PROMPT_CHARS) {
            throw new BadRequestException("the " + (prompt.length() > MAX_PROMPT_CHARS ? "" : "negative ")
                    + "prompt has " + Math.max(prompt.length(), negativePrompt.length()) + " characters; at most "
                    + MAX_PROMPT_CHARS + " are allowed");
        }
        if (steps < 1 || steps > MAX_STEPS) {
            throw new BadRequestException("steps must be in 1.." + MAX_STEPS + ", got " + steps);
        }
        if (width < 1 || height < 1) {
            throw new BadRequestException("width and height must be positive, got " + width + "x" + height);
        }
        if (!Double.isFinite(cfgScale)) {
            throw new BadRequestException("cfg scale must be a finite number, got " + cfgScale);
        }
        if (!Double.isFinite(eta) || eta < 0) {
            throw new BadRequestException("eta must be a finite number >= 0, got " + eta);
        }
        // the names are checked with the rest, before a model is loaded or a step is run for the request, and
        // kept in stable-diffusion.cpp's spelling whichever convention named them
        Samplers.Choice choice = Samplers.choose(sampler, scheduler);
        sampler = choice.kind().cliName();
        scheduler = choice.scheduler().cliName();
        if (!choice.kind().takesEta() && eta != 0) {
            throw new BadRequestException("eta applies to the ddim, ddim_trailing and tcd samplers only, not " + sampler);
        }
        if (choice.kind() == SamplerKind.TCD && eta > 1) {
            throw new BadRequestException("tcd's eta (gamma) must be in [0, 1], got " + eta);
        }
        if (batchSize < 1 || batchSize > MAX_BATCH) {
            throw new BadRequestException("batch count must be in 1.." + MAX_BATCH + ", got " + batchSize);
        }
        if (clipSkip < 0) {
            throw new BadRequestException("clip skip must be >= 1 (or 0 for the model's default), got " + clipSkip);
        }
        if (init != null && (init.image().width() != width || init.image().height() != height)) {
            throw new BadRequestException("the init image is " + init.image().width() + "x"
                    + init.image().height() + " but the requested size is " + width + "x" + height
                    + "; resize the image or ask for its size");
        }
    }

    /** A request with the default size conditioning. */
    public GenerationRequest(String prompt, String negativePrompt, int width, int height, int steps, double cfgScale,
                             String sampler, String scheduler, double eta, long seed, int batchSize, int clipSkip,
                             InitImage init) {
        this(prompt, negativePrompt, width, height, steps, cfgScale, sampler, scheduler, eta, seed, batchSize,
                clipSkip, init, null);
    }

    /** This request with SDXL's size conditioning (null: the default). */
    public GenerationRequest withSizes(Conditioner.Sizes s) {
        return new GenerationRequest(prompt, negativePrompt, width, height, steps, cfgScale, sampler, scheduler, eta,
                seed, batchSize, clipSkip, init, s);
    }

    /** A text-to-image request. */
    public GenerationRequest(String prompt, String negativePrompt, int width, int height, int steps, double cfgScale,
                             String sampler, String scheduler, double eta, long seed, int batchSize, int clipSkip) {
        this(prompt, negativePrompt, width, height, steps, cfgScale, sampler, scheduler, eta, seed, batchSize,
                clipSkip, null);
    }

    /** sd.cpp's defaults for everything but the prompt. */
    public static GenerationRequest of(String prompt) {
        return new GenerationRequest(prompt, "", 512, 512, 20, 7.0, "euler_a", "discrete", 0.0, 42, 1, 0);
    }

    public GenerationRequest withSize(int w, int h) {
        return new GenerationRequest(prompt, negativePrompt, w, h, steps, cfgScale, sampler, scheduler, eta, seed,
                batchSize, clipSkip, init, sizes);
    }

    public GenerationRequest withSampling(String sampler, String scheduler, int steps, double cfgScale) {
        return new GenerationRequest(prompt, negativePrompt, width, height, steps, cfgScale, sampler, scheduler, eta,
                seed, batchSize, clipSkip, init, sizes);
    }

    public GenerationRequest withSeed(long s) {
        return new GenerationRequest(prompt, negativePrompt, width, height, steps, cfgScale, sampler, scheduler, eta, s,
                batchSize, clipSkip, init, sizes);
    }

    /** This request with an init image (null: text-to-image); the size becomes the image's. */
    public GenerationRequest withInit(InitImage i) {
        int w = i == null ? width : i.image().width();
        int h = i == null ? height : i.image().height();
        return new GenerationRequest(prompt, negativePrompt, w, h, steps, cfgScale, sampler, scheduler, eta, seed,
                batchSize, clipSkip, i, sizes);
    }
}
