package dev.ldm4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.GrayImage;
import dev.ldm4j.io.Resample;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.pipeline.GenerationRequest;
import dev.ldm4j.pipeline.HiresFix;
import dev.ldm4j.pipeline.InitImage;
import dev.ldm4j.pipeline.MaskOptions;
import dev.ldm4j.sampling.Samplers;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A txt2img or img2img body in AUTOMATIC1111's field names, read into ldm4j requests: {@code n_iter} requests of
 * {@code batch_size} images each, the i-th seeded {@code seed + i * batch_size} (A1111's seed of the i-th
 * batch). Fields ldm4j does not implement are accepted; one that asks for something other than its default is
 * logged, since the image will not have it.
 *
 * <p>Public because it is the one request format of ldm4j: the batch job ({@code dev.ldm4j.spark}) reads each
 * row of its table through {@link #txt2img} too.
 *
 * @param iterations the requests, in order
 * @param received   the body as the client sent it (echoed as {@code parameters})
 */
public record A1111Request(List<GenerationRequest> iterations, JsonNode received, HiresFix hires) {
    private static final Logger LOG = LoggerFactory.getLogger(A1111Request.class);

    /** Most iterations of one request: with MAX_BATCH images each, more would hold the queue for hours. */
    static final int MAX_ITERATIONS = 100;

    /** Ignored fields and the value that changes nothing (null: any non-empty / true value matters). */
    private static final Map<String, Object> IGNORED_TXT2IMG = Map.ofEntries(
            Map.entry("restore_faces", false), Map.entry("tiling", false),
            Map.entry("hr_checkpoint_name", ""), Map.entry("hr_sampler_name", ""), Map.entry("hr_prompt", ""),
            Map.entry("hr_negative_prompt", ""), Map.entry("firstphase_width", 0), Map.entry("firstphase_height", 0),
            Map.entry("subseed_strength", 0), Map.entry("seed_resize_from_h", -1),
            Map.entry("seed_resize_from_w", -1), Map.entry("styles", List.of()), Map.entry("script_name", ""),
            Map.entry("script_args", List.of()), Map.entry("alwayson_scripts", Map.of()),
            Map.entry("s_churn", 0), Map.entry("s_tmax", 0), Map.entry("s_tmin", 0), Map.entry("s_noise", 1),
            Map.entry("s_min_uncond", 0), Map.entry("refiner_checkpoint", ""));
    private static final Map<String, Object> IGNORED_IMG2IMG = Map.ofEntries(
            Map.entry("resize_mode", 0), Map.entry("initial_noise_multiplier", 1),
            Map.entry("image_cfg_scale", 1.5), Map.entry("include_init_images", false));

    /**
     * What the server supplies where the body says nothing.
     *
     * @param imageSize the model's recommended width and height (A1111's 512 for a model that names none)
     * @param clipSkip  AUTOMATIC1111's CLIP_stop_at_last_layers option of the server
     */
    public record Defaults(int imageSize, int clipSkip, int latentFactor) {}

    public A1111Request(List<GenerationRequest> iterations, JsonNode received) {
        this(iterations, received, null);
    }

    public static A1111Request txt2img(JsonNode body, Defaults d) {
        Fields f = new Fields(body);
        warnIgnored(f, IGNORED_TXT2IMG);
        return new A1111Request(iterations(f, d, null), body, hires(f));
    }

    static A1111Request img2img(JsonNode body, Defaults d) {
        Fields f = new Fields(body);
        warnIgnored(f, IGNORED_TXT2IMG);
        warnIgnored(f, IGNORED_IMG2IMG);
        if (f.bool("enable_hr", false)) {
            LOG.warn("field 'enable_hr' is a txt2img field; ignored for img2img");
        }
        return new A1111Request(iterations(f, d, initImage(f)), body);
    }

    /**
     * txt2img's hires fix: enable_hr, hr_scale (2), hr_resize_x/y (0), hr_second_pass_steps (0 = steps),
     * denoising_strength (0.75, A1111's default; must be above 0), hr_upscaler (A1111's "Latent" by default;
     * "Latent", "Latent (bicubic)", "Latent (nearest)", None, Lanczos, Nearest, Bicubic).
     */
    private static HiresFix hires(Fields f) {
        if (!f.bool("enable_hr", false)) {
            return null;
        }
        double denoise = f.number("denoising_strength", 0.75);
        if (!(denoise > 0 && denoise <= 1)) {
            throw new BadRequestException("field 'denoising_strength' must be in (0, 1] with enable_hr, got " + denoise);
        }
        String upscaler = f.text("hr_upscaler", "Latent");
        if (upscaler.equalsIgnoreCase("x4")) {
            throw new BadRequestException("field 'hr_upscaler': the server has no x4 upscaler model; use a latent mode, "
                    + "Lanczos, Nearest, Bicubic or None");
        }
        try {
            return new HiresFix(f.number("hr_scale", 2.0), f.integer("hr_resize_x", 0, 0, 1 << 14),
                    f.integer("hr_resize_y", 0, 0, 1 << 14), f.integer("hr_second_pass_steps", 0, 0,
                    GenerationRequest.MAX_STEPS), denoise, upscaler, null);
        } catch (BadRequestException e) {
            throw new BadRequestException("fields 'hr_*': " + e.getMessage(), e);
        }
    }

    /**
     * img2img's inpainting fields, with A1111's defaults: mask_blur 4 (or mask_blur_x), inpainting_fill 0
     * (fill; 1 original, 2 latent noise, 3 latent nothing), inpaint_full_res true (0/1 accepted),
     * inpaint_full_res_padding 0, inpainting_mask_invert 0.
     */
    private static MaskOptions maskOptions(Fields f) {
        int blurX = f.integer("mask_blur_x", 4, 0, MaskOptions.MAX_BLUR);
        int blurY = f.integer("mask_blur_y", blurX, 0, MaskOptions.MAX_BLUR);
        int blur = f.integer("mask_blur", blurX, 0, MaskOptions.MAX_BLUR);
        if (!f.present("mask_blur") && blurX != blurY) {
            LOG.warn("mask_blur_x {} and mask_blur_y {} differ; ldm4j blurs both ways by {}", blurX, blurY, blurX);
        }
        int fill = f.integer("inpainting_fill", 0, 0, 3);
        JsonNode fullRes = f.node("inpaint_full_res");
        boolean onlyMasked = fullRes == null || fullRes.isNull() ? true
                : fullRes.isNumber() ? fullRes.asInt() != 0 : f.bool("inpaint_full_res", true);
        return new MaskOptions(blur, f.integer("inpainting_mask_invert", 0, 0, 1) == 1,
                MaskOptions.MaskedContent.values()[fill], onlyMasked,
                f.integer("inpaint_full_res_padding", 0, 0, 1 << 14));
    }

    private static List<GenerationRequest> iterations(Fields f, Defaults d, InitImage init) {
        int defaultW = init != null ? init.image().width() : d.imageSize();
        int defaultH = init != null ? init.image().height() : d.imageSize();
        int width = f.integer("width", defaultW, 1, 1 << 14);
        int height = f.integer("height", defaultH, 1, 1 << 14);
        if (width % d.latentFactor() != 0 || height % d.latentFactor() != 0) {
            throw new BadRequestException("fields 'width' and 'height' must be multiples of " + d.latentFactor()
                    + ", got " + width + "x" + height);
        }
        if (init != null) {
            init = resized(init, width, height);
        }
        int steps = f.integer("steps", 50, 1, GenerationRequest.MAX_STEPS);
        int batch = f.integer("batch_size", 1, 1, GenerationRequest.MAX_BATCH);
        int nIter = f.integer("n_iter", 1, 1, MAX_ITERATIONS);
        long seed = f.integer("seed", -1);
        if (seed < -1 || seed > 0xffffffffL) {
            throw new BadRequestException("field 'seed' must be -1 (random) or 0..4294967295, got " + seed);
        }
        if (seed == -1) {
            seed = new SecureRandom().nextInt() & 0x7fffffffL;
        }
        // sampler_index is the field of A1111's first API versions; sampler_name wins when both are sent
        String sampler = f.text("sampler_name", f.text("sampler_index", "Euler a"));
        String scheduler = f.text("scheduler", "Automatic");
        Samplers.Choice choice;
        try {
            choice = Samplers.choose(sampler, scheduler);
        } catch (BadRequestException e) {
            throw new BadRequestException("field 'sampler_name'/'scheduler': " + e.getMessage(), e);
        }
        double eta = f.number("eta", 0);
        if (!choice.kind().takesEta()) {
            if (eta != 0) {
                LOG.warn("eta {} ignored: the {} sampler takes none", eta, sampler);
            }
            eta = 0;
        } else if (eta < 0) {
            throw new BadRequestException("field 'eta' must be >= 0, got " + eta);
        }
        int clipSkip = f.object("override_settings").integer("CLIP_stop_at_last_layers", d.clipSkip(), 1, 12);
        List<GenerationRequest> out = new ArrayList<>();
        for (int i = 0; i < nIter; i++) {
            out.add(new GenerationRequest(f.text("prompt", ""), f.text("negative_prompt", ""), width, height,
                    steps, f.number("cfg_scale", 7.0), sampler, scheduler, eta, seed + (long) i * batch, batch,
                    // CLIP skip 1 is the last layer, which is each model's own default (SD 2.x's penultimate
                    // layer is its config's choice, not a skip)
                    clipSkip <= 1 ? 0 : clipSkip, init));
        }
        return out;
    }

    /** init_images[0] (A1111 uses the first; more are a batch of inputs it cycles through) and the mask. */
    private static InitImage initImage(Fields f) {
        JsonNode images = f.node("init_images");
        if (images == null || !images.isArray() || images.isEmpty() || !images.get(0).isTextual()) {
            throw new BadRequestException("field 'init_images' must be a list of base64 images, at least one");
        }
        if (images.size() > 1) {
            LOG.warn("init_images: {} images sent; only the first is used", images.size());
        }
        RgbImage image = Base64Images.rgb("init_images", images.get(0).asText());
        double strength = f.number("denoising_strength", 0.75);
        if (strength < 0 || strength > 1) {
            throw new BadRequestException("field 'denoising_strength' must be in [0, 1], got " + strength);
        }
        String maskText = f.text("mask", null);
        GrayImage mask = maskText == null || maskText.isBlank() ? null : Base64Images.gray("mask", maskText);
        if (mask != null && (mask.width() != image.width() || mask.height() != image.height())) {
            throw new BadRequestException("field 'mask' is " + mask.width() + "x" + mask.height()
                    + " but the init image is " + image.width() + "x" + image.height() + "; they must match");
        }
        return new InitImage(image, mask, strength, InitImage.Encoding.SAMPLE, InitImage.Noising.COMPVIS,
                InitImage.DEFAULT_NOISE_LEVEL, mask == null ? null : maskOptions(f));
    }

    /** A1111's resize mode 0 ("just resize"): the init image (and mask) stretched to the asked size, Lanczos. */
    private static InitImage resized(InitImage init, int width, int height) {
        RgbImage image = init.image();
        if (image.width() == width && image.height() == height) {
            return init;
        }
        RgbImage scaled = Resample.resize(image, width, height, Resample.Filter.LANCZOS);
        GrayImage mask = init.mask();
        if (mask != null) {
            byte[] rgb = new byte[mask.pixels().length * 3];
            for (int i = 0; i < mask.pixels().length; i++) {
                rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = mask.pixels()[i];
            }
            RgbImage m = Resample.resize(new RgbImage(mask.width(), mask.height(), rgb), width, height,
                    Resample.Filter.LANCZOS);
            byte[] gray = new byte[width * height];
            for (int i = 0; i < gray.length; i++) {
                gray[i] = m.pixels()[3 * i];
            }
            mask = new GrayImage(width, height, gray);
        }
        return new InitImage(scaled, mask, init.strength(), init.encoding(), init.noising(), init.noiseLevel(),
                init.maskOptions());
    }

    private static void warnIgnored(Fields f, Map<String, Object> ignored) {
        ignored.forEach((name, neutral) -> {
            JsonNode n = f.node(name);
            if (n != null && !neutral(n, neutral)) {
                LOG.warn("field '{}' = {} is not supported by ldm4j and is ignored", name, n);
            }
        });
    }

    private static boolean neutral(JsonNode n, Object neutral) {
        if (n.isContainerNode()) {
            return n.isEmpty();
        }
        if (neutral instanceof Boolean b) {
            return n.isBoolean() && n.asBoolean() == b;
        }
        if (neutral instanceof Number num) {
            // A1111's own clients send 0 where the default is -1 or 4 ("unset")
            return n.isNumber() && (n.asDouble() == num.doubleValue() || n.asDouble() == 0);
        }
        return n.isTextual() && (n.asText().isEmpty() || n.asText().equals(neutral));
    }
}
