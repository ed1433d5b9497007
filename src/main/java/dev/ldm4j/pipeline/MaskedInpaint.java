package dev.ldm4j.pipeline;

import dev.ldm4j.io.GrayImage;
import dev.ldm4j.io.MaskBlur;
import dev.ldm4j.io.PillowCompositing;
import dev.ldm4j.io.Resample;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.sampling.StepListener;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Inpainting as AUTOMATIC1111's StableDiffusionProcessingImg2Img does it around the sampler, for a request whose
 * init image carries {@link MaskOptions}:
 * <ol>
 *   <li>the mask (L) is inverted if asked and blurred ({@link MaskBlur}, A1111's cv2 numbers);</li>
 *   <li>"only masked": the bounding box of the blurred mask, widened by the padding and then to the request's
 *       aspect ratio (A1111's get_crop_region + expand_crop_region), is cut out of image and mask and resized
 *       (Lanczos) to the request's size; the overlay mask is the blurred mask. Otherwise the overlay mask is
 *       clip(2 x blurred);</li>
 *   <li>masked content "fill" replaces the area by {@link PillowCompositing#fill} of the blurred mask; latent
 *       noise / nothing are applied to the init latent ({@link ImageToImage});</li>
 *   <li>the sampler runs on that image and the blurred mask (repainted where it is >= 128, the latent mask taken
 *       by nearest neighbour as in the rest of ldm4j);</li>
 *   <li>each decoded image is pasted back (resized, Lanczos, to the crop for only-masked) and the original is
 *       composited over it through the overlay mask (A1111's apply_overlay): where the blurred mask is 0 the
 *       output is the init image's pixel, unchanged.</li>
 * </ol>
 * Differences from A1111: the latent mask is the nearest-neighbour one ldm4j uses everywhere (A1111 resizes the
 * blurred mask bicubically and rounds), and the only-masked crop is resized by plain stretching (A1111 letterboxes
 * with resize mode 2, which differs only where the crop's aspect ratio is off by a pixel's rounding).
 */
final class MaskedInpaint {
    private final LatentDiffusionModel model;
    private final Generator.Options options;

    MaskedInpaint(LatentDiffusionModel model, Generator.Options options) {
        this.model = model;
        this.options = options;
    }

    /** The crop of only-masked inpainting: [x1, x2) x [y1, y2) of the init image. */
    record Region(int x1, int y1, int x2, int y2) {
        int width() {
            return x2 - x1;
        }

        int height() {
            return y2 - y1;
        }

        /**
         * A1111's get_crop_region (the bounding box of the nonzero pixels, padded, clamped) and expand_crop_region
         * (grown to the aspect ratio of width x height, shifted back inside the image). An all-black mask gives the
         * whole image.
         */
        static Region around(GrayImage mask, int padding, int width, int height) {
            int w = mask.width();
            int h = mask.height();
            int minX = w;
            int minY = h;
            int maxX = -1;
            int maxY = -1;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    if (mask.get(x, y) != 0) {
                        minX = Math.min(minX, x);
                        maxX = Math.max(maxX, x);
                        minY = Math.min(minY, y);
                        maxY = Math.max(maxY, y);
                    }
                }
            }
            if (maxX < 0) {
                return new Region(0, 0, w, h);
            }
            int x1 = Math.max(minX - padding, 0);
            int y1 = Math.max(minY - padding, 0);
            int x2 = Math.min(maxX + 1 + padding, w);
            int y2 = Math.min(maxY + 1 + padding, h);
            double ratioCrop = (double) (x2 - x1) / (y2 - y1);
            double ratioProcessing = (double) width / height;
            if (ratioCrop > ratioProcessing) {
                double desired = (x2 - x1) / ratioProcessing;
                int diff = (int) (desired - (y2 - y1));
                y1 -= Math.floorDiv(diff, 2);
                y2 += diff - Math.floorDiv(diff, 2);
                if (y2 >= h) {
                    int d = y2 - h;
                    y2 -= d;
                    y1 -= d;
                }
                if (y1 < 0) {
                    y2 -= y1;
                    y1 = 0;
                }
                if (y2 >= h) {
                    y2 = h;
                }
            } else {
                double desired = (y2 - y1) * ratioProcessing;
                int diff = (int) (desired - (x2 - x1));
                x1 -= Math.floorDiv(diff, 2);
                x2 += diff - Math.floorDiv(diff, 2);
                if (x2 >= w) {
                    int d = x2 - w;
                    x2 -= d;
                    x1 -= d;
                }
                if (x1 < 0) {
                    x2 -= x1;
                    x1 = 0;
                }
                if (x2 >= w) {
                    x2 = w;
                }
            }
            return new Region(x1, y1, x2, y2);
        }
    }

    /** The mask after invert and blur: what decides the repainted area and the overlay. */
    static GrayImage preparedMask(GrayImage mask, MaskOptions o) {
        return MaskBlur.blur(o.invert() ? PillowCompositing.invert(mask) : mask, o.blur());
    }

    GenerationResult generate(GenerationRequest r, StepListener listener) {
        InitImage init = r.init();
        MaskOptions o = init.maskOptions();
        RgbImage original = init.image();
        GrayImage blurred = preparedMask(init.mask(), o);
        Region crop = o.onlyMasked() ? Region.around(blurred, o.padding(), r.width(), r.height()) : null;
        GrayImage overlayMask;
        RgbImage work;
        GrayImage workMask;
        if (crop != null) {
            overlayMask = blurred;
            work = Resample.resize(crop(original, crop), r.width(), r.height(), Resample.Filter.LANCZOS);
            workMask = resize(crop(blurred, crop), r.width(), r.height());
        } else {
            overlayMask = doubled(blurred);
            work = original;
            workMask = blurred;
        }
        if (o.content() != MaskOptions.MaskedContent.ORIGINAL) {
            work = PillowCompositing.fill(work, workMask);
        }
        GenerationRequest inner = r.withInit(init.withImage(work, workMask).withMaskOptions(null));
        try (GenerationResult sampled = new ImageToImage(model, options).generate(inner, listener, o.content());
             PointerScope scope = new PointerScope()) {
            List<Tensor> out = new ArrayList<>();
            for (RgbImage image : ImageTensors.toRgb8(sampled.images())) {
                RgbImage base = original;
                if (crop != null) {
                    base = paste(original, Resample.resize(image, crop.width(), crop.height(),
                            Resample.Filter.LANCZOS), crop.x1(), crop.y1());
                } else {
                    base = image;
                }
                out.add(ImageTensors.toFloat(PillowCompositing.overlay(base, original, overlayMask)));
            }
            Tensor images = Ops.cat(0, out.toArray(new Tensor[0]));
            images.retainReference();
            Tensor latents = sampled.latents();
            latents.retainReference();
            return new GenerationResult(r, images, latents);
        }
    }

    /** clip(2 x mask): A1111's overlay mask outside only-masked inpainting. */
    static GrayImage doubled(GrayImage mask) {
        byte[] px = mask.pixels().clone();
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) Math.min(255, 2 * (px[i] & 0xff));
        }
        return new GrayImage(mask.width(), mask.height(), px);
    }

    static RgbImage crop(RgbImage image, Region r) {
        byte[] out = new byte[r.width() * r.height() * 3];
        for (int y = 0; y < r.height(); y++) {
            System.arraycopy(image.pixels(), ((r.y1() + y) * image.width() + r.x1()) * 3, out, y * r.width() * 3,
                    r.width() * 3);
        }
        return new RgbImage(r.width(), r.height(), out);
    }

    static GrayImage crop(GrayImage image, Region r) {
        byte[] out = new byte[r.width() * r.height()];
        for (int y = 0; y < r.height(); y++) {
            System.arraycopy(image.pixels(), (r.y1() + y) * image.width() + r.x1(), out, y * r.width(), r.width());
        }
        return new GrayImage(r.width(), r.height(), out);
    }

    /** A mask resized as an image (Lanczos, per channel as Pillow does for L). */
    static GrayImage resize(GrayImage mask, int w, int h) {
        if (mask.width() == w && mask.height() == h) {
            return mask;
        }
        byte[] rgb = new byte[mask.pixels().length * 3];
        for (int i = 0; i < mask.pixels().length; i++) {
            rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = mask.pixels()[i];
        }
        RgbImage m = Resample.resize(new RgbImage(mask.width(), mask.height(), rgb), w, h, Resample.Filter.LANCZOS);
        byte[] gray = new byte[w * h];
        for (int i = 0; i < gray.length; i++) {
            gray[i] = m.pixels()[3 * i];
        }
        return new GrayImage(w, h, gray);
    }

    /** A copy of {@code base} with {@code part} at (x, y). */
    static RgbImage paste(RgbImage base, RgbImage part, int x, int y) {
        byte[] out = base.pixels().clone();
        for (int row = 0; row < part.height(); row++) {
            System.arraycopy(part.pixels(), row * part.width() * 3, out, ((y + row) * base.width() + x) * 3,
                    part.width() * 3);
        }
        return new RgbImage(base.width(), base.height(), out);
    }
}
