package dev.ldm4j;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.GrayImage;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.pipeline.GenerationRequest;
import dev.ldm4j.pipeline.GenerationResult;
import dev.ldm4j.pipeline.Generator;
import dev.ldm4j.pipeline.HiresFix;
import dev.ldm4j.pipeline.InitImage;
import dev.ldm4j.pipeline.MaskOptions;
import dev.ldm4j.pipeline.Outpaint;
import dev.ldm4j.pipeline.Parameters;
import dev.ldm4j.sampling.StepListener;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.bytedeco.javacpp.PointerScope;

/**
 * ldm4j's Java API: a loaded Stable Diffusion model that turns {@link ImageRequest}s into pictures.
 *
 * <pre>{@code
 * try (StableDiffusion sd = StableDiffusion.load()) {                 // ldm4j's own small model, offline
 *     GeneratedImage apple = sd.generate(ImageRequest.of("a red apple").seed(7)).get(0);
 *     ImageIO.write(apple.image(), "png", new File("apple.png"));
 *     System.out.println(apple.parameters());                         // AUTOMATIC1111's parameters text
 * }
 * }</pre>
 *
 * <p>One loaded model serves any number of threads at once (each request has its own memory and noise); the
 * same request and seed give the same pixels every time, on every CPU. {@link #close()} frees the model's
 * memory at once; close it only when no request is running on it.
 */
public final class StableDiffusion implements AutoCloseable {
    private final LatentDiffusionModel model;
    private final Generator generator;
    private final Generator.Options generatorOptions;
    private final int defaultSize;

    private StableDiffusion(LatentDiffusionModel model, Generator.Options generatorOptions, int defaultSize) {
        this.model = model;
        this.generatorOptions = generatorOptions;
        this.generator = new Generator(model, generatorOptions);
        this.defaultSize = defaultSize;
    }

    /** ldm4j's own small model (64x64 emoji). */
    public static StableDiffusion load() {
        return load(ModelOptions.defaultModel());
    }

    /** A single-file checkpoint, its config beside it or detected. */
    public static StableDiffusion load(Path checkpoint) {
        return load(ModelOptions.of(checkpoint));
    }

    public static StableDiffusion load(ModelOptions options) {
        dev.ldm4j.model.LoraPatch loras = options.loraPatch();
        LatentDiffusionModel model = ModelLoader.load(options.loaderOptions(loras));
        if (loras != null) {
            try {
                loras.check();
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
        }
        int size = ModelConfig.recommendedImageSize(ModelConfig.configFor(options.checkpoint(), options.config()))
                .orElse(512);
        return new StableDiffusion(model, options.generatorOptions(), size);
    }

    /** The checkpoint's name, as the parameters text's "Model:" shows it. */
    public String name() {
        return model.name();
    }

    /** The image size a request without one gets: the model's recommended size, else 512. */
    public int defaultSize() {
        return defaultSize;
    }

    public List<GeneratedImage> generate(ImageRequest request) {
        return generate(request, null);
    }

    /**
     * The request's pictures ({@code batchSize} of them).
     *
     * @throws IllegalArgumentException for a request that cannot run (unknown sampler, a size that is not a
     *                                  multiple of 8, a mask without an init image, ...), checked before any
     *                                  work; or whose result overflows to NaN or Inf (a guidance scale of 1e30)
     */
    public List<GeneratedImage> generate(ImageRequest request, Progress progress) {
        Objects.requireNonNull(request, "request");
        try {
            return run(request, progress);
        } catch (BadRequestException e) {
            // inside ldm4j a user's mistake has its own type; to a Java caller it is a bad argument
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    private List<GeneratedImage> run(ImageRequest request, Progress progress) {
        long seed = request.seed() == -1 ? new SecureRandom().nextInt() & 0x7fffffffL : request.seed();
        GenerationRequest r = toRequest(request, seed);
        Generator generator = request.hiresScale() == null ? this.generator : new Generator(model,
                generatorOptions.withHires(new HiresFix(request.hiresScale(), 0, 0, request.hiresSteps(),
                        request.hiresDenoise(), request.hiresUpscaler(), null)));
        generator.validate(r);
        StepListener listener = progress == null ? StepListener.NONE
                : StepListener.onStep(s -> progress.step(s.index() + 1, s.count()));
        String parameters = Parameters.a1111(r, model.name(), request.hiresScale() == null ? null
                : new HiresFix(request.hiresScale(), 0, 0, request.hiresSteps(), request.hiresDenoise(),
                        request.hiresUpscaler(), null));
        try (PointerScope scope = new PointerScope(); GenerationResult result = generator.generate(r, listener)) {
            List<GeneratedImage> images = new ArrayList<>();
            for (RgbImage image : ImageTensors.toRgb8(result.images())) {
                images.add(new GeneratedImage(Images.toBufferedImage(image), parameters, seed));
            }
            return List.copyOf(images);
        }
    }

    private GenerationRequest toRequest(ImageRequest q, long seed) {
        InitImage init = null;
        if (q.initImage() != null) {
            RgbImage image = Images.toRgb(q.initImage(), "the init image");
            GrayImage mask = q.mask() == null ? null : Images.toGray(q.mask(), "the mask");
            double strength = q.strength() != null ? q.strength() : mask != null ? 1.0 : InitImage.DEFAULT_STRENGTH;
            init = new InitImage(image, mask, strength, InitImage.Encoding.SAMPLE, InitImage.Noising.COMPVIS,
                    q.noiseLevel() != null ? q.noiseLevel() : InitImage.DEFAULT_NOISE_LEVEL);
        } else if (q.mask() != null || q.strength() != null || q.noiseLevel() != null || q.a1111Inpainting()) {
            throw new IllegalArgumentException("a mask, a strength, a noise level, outpainting or inpainting options "
                    + "need an init image");
        }
        if (init != null && q.a1111Inpainting()) {
            boolean grow = q.outpaintBorders() != null;
            if (grow && (init.mask() != null || q.invertsMask() || q.onlyMaskedPadding() != null)) {
                throw new IllegalArgumentException("outpainting makes its own mask: no mask, invertMask or onlyMasked");
            }
            if (!grow && init.mask() == null) {
                throw new IllegalArgumentException("inpainting options need a mask (or outpaint)");
            }
            MaskOptions.MaskedContent content = q.maskedContent() != null
                    ? MaskOptions.MaskedContent.parse(q.maskedContent())
                    : grow ? MaskOptions.MaskedContent.FILL : MaskOptions.MaskedContent.ORIGINAL;
            MaskOptions options = new MaskOptions(q.maskBlur() == null ? 4 : q.maskBlur(), q.invertsMask(), content,
                    q.onlyMaskedPadding() != null, q.onlyMaskedPadding() == null ? 32 : q.onlyMaskedPadding());
            if (grow) {
                int[] b = q.outpaintBorders();
                init = new Outpaint(b[0], b[1], b[2], b[3]).apply(q.strength() == null ? init.withStrength(1.0) : init,
                        options);
            } else {
                init = init.withMaskOptions(options);
            }
        }
        if (model.config().upscaler() && init != null) {
            // the x4 upscaler's request has its input's size; the image it makes is 4x that
            return new GenerationRequest(q.prompt(), q.negativePrompt(), init.image().width(), init.image().height(),
                    q.steps(), q.cfgScale(), q.sampler(), q.scheduler(), q.eta(), seed, q.batchSize(), q.clipSkip(), init);
        }
        int w = q.width() != null ? q.width() : init != null ? init.image().width() : defaultSize;
        int h = q.height() != null ? q.height() : init != null ? init.image().height() : defaultSize;
        return new GenerationRequest(q.prompt(), q.negativePrompt(), w, h, q.steps(), q.cfgScale(), q.sampler(),
                q.scheduler(), q.eta(), seed, q.batchSize(), q.clipSkip(), init);
    }

    /** Frees the model's memory at once. Idempotent. */
    @Override
    public void close() {
        model.close();
    }
}
