package dev.ldm4j.pipeline;

import dev.ldm4j.io.BadRequestException;
import java.util.Locale;
import java.util.Objects;

/**
 * AUTOMATIC1111's inpainting settings (its img2img fields {@code mask_blur}, {@code inpainting_mask_invert},
 * {@code inpainting_fill}, {@code inpaint_full_res}, {@code inpaint_full_res_padding}), applied as its
 * StableDiffusionProcessingImg2Img does (see {@link MaskedInpaint}).
 *
 * @param blur       the mask's Gaussian blur, in pixels (A1111's cv2 blur; 0 = none)
 * @param invert     repaint the black area instead of the white one
 * @param content    what the area to repaint starts from
 * @param onlyMasked "only masked": work on the region around the mask at the request's full size, then paste
 *                   it back ({@code inpaint_full_res})
 * @param padding    pixels of context around the mask's bounding box in the only-masked region
 */
public record MaskOptions(int blur, boolean invert, MaskedContent content, boolean onlyMasked, int padding) {
    /** Beyond this a blur only costs time: the kernel would be wider than any image ldm4j makes. */
    public static final int MAX_BLUR = 256;

    /** A1111's masked content choices, in the order of its {@code inpainting_fill} numbers 0..3. */
    public enum MaskedContent {
        /** The area is filled with colours spread from around it (A1111's masking.fill), then noised as usual. */
        FILL,
        /** The image as it is. */
        ORIGINAL,
        /** The init latent of the area is replaced by unit Gaussian noise drawn from the seed. */
        LATENT_NOISE,
        /** The init latent of the area is zeroed. */
        LATENT_NOTHING;

        /** The flag's spelling: fill, original, latent-noise, latent-nothing. */
        public String cliName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /** By flag spelling (also with '_' or ' '), or A1111's number 0..3. */
        public static MaskedContent parse(String s) {
            String v = s.trim().toLowerCase(Locale.ROOT).replace('_', '-').replace(' ', '-');
            for (MaskedContent c : values()) {
                if (c.cliName().equals(v) || String.valueOf(c.ordinal()).equals(v)) {
                    return c;
                }
            }
            throw new BadRequestException("masked content must be fill, original, latent-noise or latent-nothing "
                    + "(or 0..3), got '" + s + "'");
        }
    }

    /** AUTOMATIC1111's defaults for an API request: blur 4, fill, only masked, padding 0. */
    public static final MaskOptions A1111_API = new MaskOptions(4, false, MaskedContent.FILL, true, 0);

    public MaskOptions {
        Objects.requireNonNull(content, "content");
        if (blur < 0 || blur > MAX_BLUR) {
            throw new BadRequestException("mask blur must be in 0.." + MAX_BLUR + ", got " + blur);
        }
        if (padding < 0) {
            throw new BadRequestException("inpaint padding must be >= 0, got " + padding);
        }
    }
}
