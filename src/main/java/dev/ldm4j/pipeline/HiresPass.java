package dev.ldm4j.pipeline;

import static dev.ldm4j.nn.Ops.s;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.SeededNoise;
import dev.ldm4j.sampling.Step;
import dev.ldm4j.sampling.StepListener;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;

/**
 * Text-to-image with AUTOMATIC1111's hires fix (StableDiffusionProcessingTxt2Img.sample / sample_hr_pass):
 * <ol>
 *   <li>the first pass at the request's size, as plain text-to-image (the same seed, the same image);</li>
 *   <li>the upscale to the target ({@link HiresFix#target}): a latent mode interpolates the latent to
 *       (target / 8) (antialias off); an image upscaler takes the decoded images (8 bits, truncated as A1111's
 *       {@code astype(uint8)}), resizes them ({@link ImageUpscaler#resizeTo}) to the target rounded down to a
 *       multiple of 8 and encodes them; "x4" runs the x4 upscaler model on each image (prompt, steps and seed of
 *       the request, noise level 20), then Lanczos to the target; the latent is then cropped by the truncation;</li>
 *   <li>the second pass: image-to-image at the new size from that latent, as A1111's "fixed steps" img2img: the
 *       schedule has int(hires steps / min(denoise, 0.999)) steps, of which the last hires steps run (one fewer
 *       for the CompVis samplers, as A1111's t_enc = steps - 1).</li>
 * </ol>
 * Random draws of the second pass: a fresh generator from the seed, as A1111 re-seeds for it: first the noise
 * of the new latent size, then the VAE posterior noise of the upscaled images (image upscalers), then the
 * sampler's. The listener hears both passes (and the x4 runs) as one run of {@link #plannedSteps} steps.
 */
final class HiresPass {
    private final LatentDiffusionModel model;
    private final Generator.Options options;
    private final HiresFix hires;

    HiresPass(LatentDiffusionModel model, Generator.Options options) {
        this.model = model;
        this.options = options;
        this.hires = options.hires();
    }

    /** The second pass's request: the target size, its own schedule length; no init image. */
    private GenerationRequest second(GenerationRequest r) {
        int f = model.downscaleFactor();
        HiresFix.Target t = hires.target(r.width(), r.height());
        int w = t.width(f);
        int h = t.height(f);
        if (w < f || h < f || w > HiresFix.MAX_SIDE || h > HiresFix.MAX_SIDE) {
            throw new BadRequestException("the hires fix of " + r.width() + "x" + r.height() + " would be " + w + "x"
                    + h + "; it must be " + f + ".." + HiresFix.MAX_SIDE + " pixels a side");
        }
        int steps = hires.secondPassSteps(r.steps());
        int total = (int) (steps / Math.min(hires.denoise(), 0.999));
        if (total > GenerationRequest.MAX_STEPS) {
            throw new BadRequestException("hires steps " + steps + " at denoising " + hires.denoise() + " make a "
                    + "schedule of " + total + " steps; at most " + GenerationRequest.MAX_STEPS);
        }
        return r.withSize(w, h).withSampling(r.sampler(), r.scheduler(), total, r.cfgScale());
    }

    private int tEnc(GenerationRequest r) {
        return hires.secondPassSteps(r.steps()) - 1;
    }

    /** Steps of both passes (and of the x4 runs). */
    int plannedSteps(GenerationRequest r) {
        if (r.init() != null) {
            throw new BadRequestException("the hires fix applies to text-to-image only (no init image)");
        }
        int first = new TextToImage(model, options).validate(r);
        GenerationRequest second = second(r);
        int x4 = hires.x4() ? r.batchSize() * x4Request(r, null).steps() : 0;
        return first + x4 + new ImageToImage(model, options).plannedSteps(second, tEnc(r));
    }

    private GenerationRequest x4Request(GenerationRequest r, RgbImage image) {
        GenerationRequest x = new GenerationRequest(r.prompt(), r.negativePrompt(), r.width(), r.height(),
                hires.secondPassSteps(r.steps()), r.cfgScale(), r.sampler(), r.scheduler(), r.eta(), r.seed(), 1,
                r.clipSkip());
        return image == null ? x : x.withInit(InitImage.of(image, 1.0));
    }

    GenerationResult generate(GenerationRequest r, StepListener listener) {
        int total = plannedSteps(r);
        GenerationRequest second = second(r);
        HiresFix.Target target = hires.target(r.width(), r.height());
        int f = model.downscaleFactor();
        int b = r.batchSize();
        Offset progress = new Offset(listener, total);
        try (GenerationResult first = new TextToImage(model, options).generate(r, progress);
             PointerScope scope = new PointerScope();
             SeededNoise noise = new SeededNoise(r.seed())) {
            Tensor upscaled;
            long lh = second.height() / f;
            long lw = second.width() / f;
            // A1111 draws the second pass's noise from the seed at the final latent size
            Tensor startNoise = noise.randn(b, model.latentChannels(), lh, lw);
            try (InferenceMode guard = new InferenceMode()) {
                if (hires.latent()) {
                    upscaled = hires.interpolate(first.latents(), target.upscaleToY() / f, target.upscaleToX() / f);
                } else {
                    int w8 = target.upscaleToX() / f * f;
                    int h8 = target.upscaleToY() / f * f;
                    List<Tensor> images = new ArrayList<>();
                    for (RgbImage image : truncated(first.images())) {
                        RgbImage big = hires.x4() ? x4(r, image, progress, w8, h8)
                                : hires.imageUpscaler().resizeTo(image, w8, h8);
                        images.add(ImageTensors.toFloat(big).mul(s(2)).sub(s(1)));
                    }
                    upscaled = encode(Ops.cat(0, images.toArray(new Tensor[0])), noise);
                }
                long ty = target.truncateY();
                long tx = target.truncateX();
                upscaled = upscaled.narrow(2, ty / 2, upscaled.size(2) - ty).narrow(3, tx / 2, upscaled.size(3) - tx);
            }
            return new ImageToImage(model, options).generateFromLatent(second, upscaled, startNoise, tEnc(r), noise,
                    progress);
        }
    }

    /** The batch's latents: the VAE posterior of each image, a draw for the whole batch from {@code noise}. */
    private Tensor encode(Tensor images, SeededNoise noise) {
        dev.ldm4j.vae.Posterior p = model.encodeImage(images);
        return model.vae().toDiffusion(p.sample(noise));
    }

    /** One image through the x4 upscaler model, then Lanczos to w x h. */
    private RgbImage x4(GenerationRequest r, RgbImage image, Offset progress, int w, int h) {
        Generator upscaler = new Generator(hires.x4Model(), new Generator.Options(options.vaeTiling()));
        try (GenerationResult up = upscaler.generate(x4Request(r, image), progress)) {
            RgbImage big = ImageTensors.toRgb8(up.images()).get(0);
            return big.width() == w && big.height() == h ? big
                    : dev.ldm4j.io.Resample.resize(big, w, h, dev.ldm4j.io.Resample.Filter.LANCZOS);
        }
    }

    /** 8-bit images as A1111 makes them for an upscaler: uint8(255 x clamp(x)), truncated. */
    static List<RgbImage> truncated(Tensor images) {
        long[] shape = Tensors.shape(images);
        int n = (int) shape[0];
        int h = (int) shape[2];
        int w = (int) shape[3];
        float[] v = Tensors.toFloats(images.contiguous());
        int plane = h * w;
        List<RgbImage> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] px = new byte[plane * 3];
            for (int c = 0; c < 3; c++) {
                for (int p = 0; p < plane; p++) {
                    float x = v[(i * 3 + c) * plane + p];
                    float scaled = 255f * Math.min(Math.max(Float.isNaN(x) ? 0f : x, 0f), 1f);
                    px[p * 3 + c] = (byte) (int) scaled;
                }
            }
            out.add(new RgbImage(w, h, px));
        }
        return out;
    }

    /** The passes' steps as one run: each pass's step i is reported after the steps of the passes before it. */
    private static final class Offset implements StepListener {
        private final StepListener inner;
        private final int total;
        private int done;
        private int lastIndex = -1;

        Offset(StepListener inner, int total) {
            this.inner = inner;
            this.total = total;
        }

        @Override
        public Tensor beforeStep(int index, Tensor latent) {
            if (index <= lastIndex) {
                done += lastIndex + 1; // a new pass started
            }
            lastIndex = index;
            return inner.beforeStep(done + index, latent);
        }

        @Override
        public void afterStep(Step step) {
            inner.afterStep(new Step(done + step.index(), total, step.latent(), step.denoised()));
        }
    }
}
