package dev.ldm4j.pipeline;

import static dev.ldm4j.nn.Ops.s;

import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.sampling.Denoiser;
import dev.ldm4j.sampling.ModelFn;
import dev.ldm4j.sampling.Plan;
import dev.ldm4j.sampling.Sampler;
import dev.ldm4j.sampling.Scheduler;
import dev.ldm4j.sampling.SeededNoise;
import dev.ldm4j.sampling.StepListener;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;

/**
 * Image-to-image (SDEdit) and inpainting: a request with an {@link InitImage}.
 *
 * <ul>
 *   <li>img2img: the init latent (scale_factor times the VAE posterior of 2 * u8 / 255 - 1) is noised to the level
 *       the strength picks and sampled from there (see {@link InitImage} and {@link StartPoint}).</li>
 *   <li>mask with a normal model: before every step the kept area is replaced by the init latent noised to the
 *       step's level, and the clean init latent is pasted back into it at the end (CompVis DDIMSampler's
 *       mask / x0 blending with AUTOMATIC1111's paste).</li>
 *   <li>inpainting model (9-channel UNet): the UNet sees cat([x, mask, masked image latent]) in both guidance
 *       branches (runwayml LatentInpaintDiffusion); no blending, no paste. Without a mask the whole image is
 *       repainted (mask of ones), as AUTOMATIC1111 does.</li>
 * </ul>
 *
 * <p>Random draws, all from the seed's stream: at strength 1, x_T first (as text-to-image); below 1, the init
 * image's posterior noise (when sampling it), then the img2img noise. Then the posterior noise of the image a
 * mask still needs (the init image for blending at strength 1, the masked image for an inpainting model), then,
 * per step, the blending noise followed by the sampler's own draws. This is the order of the reference runs:
 * CompVis img2img.py encodes before it noises; the inpainting scripts and diffusers draw x_T before encoding.
 */
final class ImageToImage {
    private final LatentDiffusionModel model;
    private final Generator.Options options;

    ImageToImage(LatentDiffusionModel model, Generator.Options options) {
        this.model = model;
        this.options = options;
    }

    /** The init latent with its masked part replaced as {@code content} says. */
    private static Tensor latentContent(Tensor initLatent, Tensor latentMask, MaskOptions.MaskedContent content,
                                        long seed) {
        Tensor keep = Masks.keep(latentMask);
        if (content == MaskOptions.MaskedContent.LATENT_NOTHING) {
            return initLatent.mul(keep);
        }
        if (content == MaskOptions.MaskedContent.LATENT_NOISE) {
            try (SeededNoise fresh = new SeededNoise(seed)) {
                return initLatent.mul(keep).add(fresh.randn(dev.ldm4j.nn.Tensors.shape(initLatent)).mul(latentMask));
            }
        }
        return initLatent;
    }

    /**
     * The image-to-image pass of a hires fix: {@code r} (no init image, its size the latent's) sampled from
     * {@code initLatent} [B, C, h, w] noised with {@code startNoise} for t_enc steps of its plan (see
     * {@link StartPoint#atTEnc}); later draws come from {@code noise}. An inpainting model gets the conditioning of
     * a full mask, as AUTOMATIC1111's hires pass does.
     */
    GenerationResult generateFromLatent(GenerationRequest r, Tensor initLatent, Tensor startNoise, int tEnc,
                                        SeededNoise noise, StepListener listener) {
        Sampler sampler = GuidedModel.sampler(r);
        Plan plan = plan(r);
        StartPoint start = StartPoint.atTEnc(plan, tEnc, InitImage.Noising.COMPVIS);
        Plan run = plan.from(start.sampleFrom());
        try (InferenceMode guard = new InferenceMode();
             PointerScope scope = new PointerScope()) {
            Tensor x = start.latent(plan, model.schedule(), initLatent, startNoise);
            Tensor concat = model.config().inpainting() ? TextToImage.fullMask(model, x) : null;
            ModelFn fn = GuidedModel.of(model, options, r, concat);
            Denoiser denoiser = new Denoiser(fn, model.prediction(), model.schedule());
            Tensor z0 = sampler.sample(denoiser, run, x, noise, listener);
            Tensor images = model.decode(z0, options.tiled(r));
            images.retainReference();
            z0.retainReference();
            return new GenerationResult(r, images, z0);
        }
    }

    /** The number of steps {@link #generateFromLatent} runs for {@code r} and t_enc. */
    int plannedSteps(GenerationRequest r, int tEnc) {
        Plan plan = plan(r);
        return plan.from(StartPoint.atTEnc(plan, tEnc, InitImage.Noising.COMPVIS).sampleFrom()).steps();
    }

    /** Checks what can be checked before any work: the init image, size, sampler and scheduler names. */
    void validate(GenerationRequest r) {
        if (r.init() == null) {
            throw new IllegalArgumentException("image-to-image needs an init image");
        }
        int f = model.downscaleFactor();
        if (r.width() % f != 0 || r.height() % f != 0) {
            throw new dev.ldm4j.io.BadRequestException("the init image is " + r.width() + "x" + r.height()
                    + "; width and height must be multiples of " + f);
        }
        plan(r);
    }

    /** The number of sampler steps the request runs (fewer than its steps below strength 1). */
    int plannedSteps(GenerationRequest r) {
        validate(r);
        Plan plan = plan(r);
        return plan.from(start(r, plan).sampleFrom()).steps();
    }

    private Plan plan(GenerationRequest r) {
        return GuidedModel.sampler(r).plan(model.schedule(), Scheduler.byName(r.scheduler()), r.steps());
    }

    private static StartPoint start(GenerationRequest r, Plan plan) {
        return StartPoint.of(plan, r.steps(), r.init().strength(), r.init().noising());
    }

    GenerationResult generate(GenerationRequest r, StepListener listener) {
        return generate(r, listener, MaskOptions.MaskedContent.ORIGINAL);
    }

    /**
     * As {@link #generate(GenerationRequest, StepListener)}; with a mask, {@code content} LATENT_NOISE or
     * LATENT_NOTHING replaces the init latent under the mask by the seed's x_T (a fresh generator, as A1111's
     * create_random_tensors of the seed) or by zeros before it is noised (A1111's inpainting_fill 2 and 3).
     */
    GenerationResult generate(GenerationRequest r, StepListener listener, MaskOptions.MaskedContent content) {
        validate(r);
        InitImage init = r.init();
        Sampler sampler = GuidedModel.sampler(r);
        Plan plan = plan(r);
        StartPoint start = start(r, plan);
        Plan run = plan.from(start.sampleFrom());
        int f = model.downscaleFactor();
        int b = r.batchSize();
        long h = r.height() / f;
        long w = r.width() / f;
        InitImage.Encoding encoding = init.encoding();
        boolean inpaintingModel = model.config().inpainting();
        try (InferenceMode guard = new InferenceMode();
             PointerScope scope = new PointerScope();
             SeededNoise noise = new SeededNoise(r.seed())) {
            Tensor image = ImageTensors.toFloat(init.image()).mul(s(2)).sub(s(1));
            Tensor mask = init.mask() == null ? null : Masks.read(init.mask());

            Tensor initLatent = null;
            Tensor x;
            if (start.pureNoise()) {
                x = start.latent(plan, model.schedule(), null, noise.randn(b, model.latentChannels(), h, w));
            } else {
                initLatent = LatentEncoder.encode(model, image, b, encoding, noise);
                if (mask != null) {
                    initLatent = latentContent(initLatent, Masks.toLatent(mask, b, h, w), content, r.seed());
                }
                x = start.latent(plan, model.schedule(), initLatent, noise.randn(b, model.latentChannels(), h, w));
            }

            Tensor concat = null;
            if (inpaintingModel) {
                Tensor m = mask != null ? mask : Masks.everywhere(r.height(), r.width());
                Tensor maskedLatent = LatentEncoder.encode(model, Masks.maskedImage(image, m), b, encoding, noise);
                concat = Masks.conditioning(Masks.toLatent(m, b, h, w), maskedLatent);
            }
            MaskBlend blend = null;
            if (mask != null && !inpaintingModel) {
                if (initLatent == null) {
                    initLatent = LatentEncoder.encode(model, image, b, encoding, noise);
                }
                blend = new MaskBlend(listener, run, model.schedule(), initLatent,
                        Masks.keep(Masks.toLatent(mask, b, h, w)), noise);
            }

            ModelFn fn = GuidedModel.of(model, options, r, concat);
            Denoiser denoiser = new Denoiser(fn, model.prediction(), model.schedule());
            Tensor z0 = sampler.sample(denoiser, run, x, noise, blend != null ? blend : listener);
            if (blend != null) {
                z0 = blend.paste(z0);
            }
            Tensor images = model.decode(z0, options.tiled(r));
            images.retainReference();
            z0.retainReference();
            return new GenerationResult(r, images, z0);
        }
    }
}
