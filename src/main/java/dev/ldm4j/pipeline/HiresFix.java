package dev.ldm4j.pipeline;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.model.LatentDiffusionModel;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * AUTOMATIC1111's hires fix of text-to-image ({@code enable_hr}): a first pass at the size asked, upscaled, then
 * an image-to-image pass at the new size ({@link HiresPass}).
 *
 * @param scale     hr_scale: the target is int(width x scale) x int(height x scale) when no resize is given
 * @param resizeX   hr_resize_x, 0 = from the scale (see {@link #target})
 * @param resizeY   hr_resize_y, 0 = from the scale
 * @param steps     hr_second_pass_steps: the steps the second pass runs; 0 = the request's steps
 * @param denoise   denoising_strength of the second pass, in (0, 1]
 * @param upscaler  hr_upscaler: a latent mode ("Latent", "Latent (bicubic)", "Latent (nearest)"), an image
 *                  upscaler ({@link ImageUpscaler}: None, Lanczos, Nearest, Bicubic) or "x4" (the x4 upscaler
 *                  model {@code x4Model}, then Lanczos to the target)
 * @param x4Model   the x4 upscaler for upscaler "x4", else null
 */
public record HiresFix(double scale, int resizeX, int resizeY, int steps, double denoise, String upscaler,
                       LatentDiffusionModel x4Model) {
    /** A1111's latent upscale modes ldm4j runs: torch interpolate modes, antialias off. */
    private static final Map<String, String> LATENT_MODES = Map.of("latent", "bilinear",
            "latent (bicubic)", "bicubic", "latent (nearest)", "nearest");
    /** Largest side of the second pass. */
    static final int MAX_SIDE = 8192;

    public HiresFix {
        if (!(scale >= 1 && scale <= 8)) {
            throw new BadRequestException("hires scale must be in 1..8, got " + scale);
        }
        if (resizeX < 0 || resizeY < 0 || resizeX > MAX_SIDE || resizeY > MAX_SIDE) {
            throw new BadRequestException("hires resize must be in 0.." + MAX_SIDE + ", got " + resizeX + "x" + resizeY);
        }
        if (steps < 0 || steps > GenerationRequest.MAX_STEPS) {
            throw new BadRequestException("hires steps must be in 0.." + GenerationRequest.MAX_STEPS + ", got " + steps);
        }
        if (!(denoise > 0 && denoise <= 1)) {
            throw new BadRequestException("hires denoising strength must be in (0, 1], got " + denoise);
        }
        upscaler = upscaler == null ? "Latent" : upscaler.trim();
        String key = upscaler.toLowerCase(Locale.ROOT);
        if (key.equals("x4")) {
            if (x4Model == null || !x4Model.config().upscaler()) {
                throw new BadRequestException("hires upscaler x4 needs an x4 upscaler model (--hires-upscale-model)");
            }
        } else if (!LATENT_MODES.containsKey(key)) {
            if (key.startsWith("latent")) {
                throw new BadRequestException("hires upscaler '" + upscaler + "' is not supported; latent modes: "
                        + "Latent, Latent (bicubic), Latent (nearest)");
            }
            ImageUpscaler.parse(upscaler, "hires upscaler");
        }
    }

    /** The second pass's size before truncation, and the latent pixels cut off (A1111's calculate_target_resolution). */
    public record Target(int upscaleToX, int upscaleToY, int truncateX, int truncateY) {
        /** The final image size: the latent of the upscale-to size, less the truncation, times 8. */
        public int width(int f) {
            return (upscaleToX / f - truncateX) * f;
        }

        public int height(int f) {
            return (upscaleToY / f - truncateY) * f;
        }
    }

    /** A1111's target: from the scale, or hr_resize_x/y (one kept in ratio, or both: cover, then crop). */
    public Target target(int width, int height) {
        if (resizeX == 0 && resizeY == 0) {
            return new Target((int) (width * scale), (int) (height * scale), 0, 0);
        }
        if (resizeY == 0) {
            return new Target(resizeX, resizeX * height / width, 0, 0);
        }
        if (resizeX == 0) {
            return new Target(resizeY * width / height, resizeY, 0, 0);
        }
        double srcRatio = (double) width / height;
        double dstRatio = (double) resizeX / resizeY;
        int x;
        int y;
        if (srcRatio < dstRatio) {
            x = resizeX;
            y = resizeX * height / width;
        } else {
            x = resizeY * width / height;
            y = resizeY;
        }
        return new Target(x, y, Math.floorDiv(x - resizeX, 8), Math.floorDiv(y - resizeY, 8));
    }

    /** The second pass's steps: {@link #steps}, else the request's. */
    int secondPassSteps(int requestSteps) {
        return steps > 0 ? steps : requestSteps;
    }

    boolean latent() {
        return LATENT_MODES.containsKey(upscaler.toLowerCase(Locale.ROOT));
    }

    boolean x4() {
        return upscaler.equalsIgnoreCase("x4");
    }

    ImageUpscaler imageUpscaler() {
        return ImageUpscaler.parse(upscaler, "hires upscaler");
    }

    /** torch.nn.functional.interpolate(latent, size=(h, w), mode, antialias=False, align_corners=False). */
    Tensor interpolate(Tensor latent, long h, long w) {
        return switch (LATENT_MODES.get(upscaler.toLowerCase(Locale.ROOT))) {
            case "bilinear" -> torch.upsample_bilinear2d(latent, new long[] {h, w}, false);
            case "bicubic" -> torch.upsample_bicubic2d(latent, new long[] {h, w}, false);
            default -> torch.upsample_nearest2d(latent, new long[] {h, w});
        };
    }
}
