package dev.ldm4j.pipeline;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.GrayImage;
import dev.ldm4j.io.RgbImage;
import java.util.Objects;

/**
 * The image side of an image-to-image or inpainting request.
 *
 * <p>{@code strength} says how much of the sampling schedule runs: t_enc = int(strength * steps) steps for the
 * CompVis samplers (the latent noised one step above the first denoised one, as CompVis {@code img2img.py},
 * AUTOMATIC1111 and stable-diffusion.cpp do), t_enc + 1 for the k-diffusion samplers (A1111 / stable-diffusion.cpp).
 * Strength 1 starts from pure noise x_T over the whole schedule: the image then only enters through the mask
 * (blending, or an inpainting model's conditioning), and without a mask the run is text-to-image.
 *
 * @param image    the init image; its size is the output size
 * @param mask     null, or a mask of the image's size: values >= 128 (L / 255 >= 0.5) are repainted, the
 *                 rest is kept
 * @param strength in [0, 1]
 * @param encoding how the VAE posterior of an image becomes a latent
 * @param noising  at which noise level the init latent enters relative to the first denoised step
 * @param maskOptions null: the mask is used as given (the reference scripts' inpainting); else AUTOMATIC1111's
 *                 inpainting around it (mask blur, invert, masked content, only-masked area; see {@link MaskOptions})
 */
public record InitImage(RgbImage image, GrayImage mask, double strength, Encoding encoding, Noising noising,
                        int noiseLevel, MaskOptions maskOptions) {
    /** The x4 upscaler's default noise level (diffusers' and the reference script's). */
    public static final int DEFAULT_NOISE_LEVEL = 20;

    /** stable-diffusion.cpp's default strength for image-to-image. */
    public static final double DEFAULT_STRENGTH = 0.75;

    /** Latent of an image: a draw from the VAE posterior, or its mean. */
    public enum Encoding {
        /**
         * mean + std * noise, the noise drawn from the request's seed (CompVis, AUTOMATIC1111, stable-diffusion.cpp
         * and diffusers all sample).
         */
        SAMPLE,
        /** The posterior mean: no random draw, the same latent for every seed. */
        MEAN
    }

    /** Where the init latent is noised, relative to the first step that is denoised. */
    public enum Noising {
        /**
         * CompVis / AUTOMATIC1111 / stable-diffusion.cpp: one step above it for DDIM, PLMS and DDPM (at DDIM index
         * t_enc, then denoised from index t_enc - 1 down); at its level for the k-diffusion samplers.
         */
        COMPVIS,
        /** diffusers: at the level of the first denoised step, for every sampler. */
        DIFFUSERS
    }

    public InitImage {
        Objects.requireNonNull(image, "an init image is required");
        Objects.requireNonNull(encoding, "encoding");
        Objects.requireNonNull(noising, "noising");
        if (!(strength >= 0 && strength <= 1)) {
            throw new BadRequestException("strength must be in [0, 1], got " + strength);
        }
        if (noiseLevel < 0) {
            throw new BadRequestException("noise level must be >= 0, got " + noiseLevel);
        }
        if (mask != null && (mask.width() != image.width() || mask.height() != image.height())) {
            throw new BadRequestException("the mask is " + mask.width() + "x" + mask.height()
                    + " but the init image is " + image.width() + "x" + image.height() + "; they must match");
        }
    }

    /** An init image whose mask (if any) is used as given. */
    public InitImage(RgbImage image, GrayImage mask, double strength, Encoding encoding, Noising noising,
                     int noiseLevel) {
        this(image, mask, strength, encoding, noising, noiseLevel, null);
    }

    /** An init image with the default noise level (used by the x4 upscaler only). */
    public InitImage(RgbImage image, GrayImage mask, double strength, Encoding encoding, Noising noising) {
        this(image, mask, strength, encoding, noising, DEFAULT_NOISE_LEVEL);
    }

    /**
     * The noise level of an x4 upscaler's input: how much its own noise schedule noises the low-resolution image
     * before the UNet sees it (and the class label it is told); 0 to 349.
     */
    public InitImage withNoiseLevel(int level) {
        return new InitImage(image, mask, strength, encoding, noising, level, maskOptions);
    }

    /** Image-to-image at a strength, sampling the posterior, CompVis noising. */
    public static InitImage of(RgbImage image, double strength) {
        return new InitImage(image, null, strength, Encoding.SAMPLE, Noising.COMPVIS);
    }

    /** Inpainting: repaint where the mask is white, over the whole schedule (strength 1, as diffusers). */
    public static InitImage inpaint(RgbImage image, GrayImage mask) {
        return new InitImage(image, Objects.requireNonNull(mask, "mask"), 1.0, Encoding.SAMPLE, Noising.COMPVIS);
    }

    public InitImage withStrength(double s) {
        return new InitImage(image, mask, s, encoding, noising, noiseLevel, maskOptions);
    }

    public InitImage withEncoding(Encoding e) {
        return new InitImage(image, mask, strength, e, noising, noiseLevel, maskOptions);
    }

    public InitImage withNoising(Noising n) {
        return new InitImage(image, mask, strength, encoding, n, noiseLevel, maskOptions);
    }

    /** This init image with AUTOMATIC1111's inpainting options (null: the mask as given). */
    public InitImage withMaskOptions(MaskOptions o) {
        return new InitImage(image, mask, strength, encoding, noising, noiseLevel, o);
    }

    /** This init image with another image and mask (same settings). */
    InitImage withImage(RgbImage newImage, GrayImage newMask) {
        return new InitImage(newImage, newMask, strength, encoding, noising, noiseLevel, maskOptions);
    }
}
