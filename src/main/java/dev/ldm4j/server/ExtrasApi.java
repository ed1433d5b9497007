package dev.ldm4j.server;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.pipeline.ImageUpscaler;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AUTOMATIC1111's {@code POST /sdapi/v1/extra-single-image} with its image-space upscalers (None, Lanczos,
 * Nearest, and ldm4j's Bicubic), as its postprocessing "Upscale" script runs them: resize_mode 0 scales by
 * {@code upscaling_resize} (Upscaler.upscale: the sides rounded down to multiples of 8), 1 scales by the larger
 * of upscaling_resize_w / width and upscaling_resize_h / height and, with {@code upscaling_crop} (default true),
 * centres the result on a black canvas of exactly that size. {@code upscaler_2} at
 * {@code extras_upscaler_2_visibility} is blended in (Pillow's Image.blend). Face restoration is not available:
 * its visibilities are accepted and ignored.
 */
final class ExtrasApi {
    private static final Logger LOG = LoggerFactory.getLogger(ExtrasApi.class);

    private ExtrasApi() {}

    /** The response: A1111's plaintext_to_html of the postprocessing text, and the PNG (base64) carrying it. */
    record SingleImage(String html_info, String image) {}

    static SingleImage singleImage(Fields f) {
        String data = f.text("image", null);
        if (data == null || data.isBlank()) {
            throw new BadRequestException("field 'image' is required (a base64 image)");
        }
        for (String ignored : List.of("gfpgan_visibility", "codeformer_visibility")) {
            if (f.number(ignored, 0) != 0) {
                LOG.warn("field '{}' is not supported by ldm4j (no face restoration) and is ignored", ignored);
            }
        }
        RgbImage image = Base64Images.rgb("image", data);
        int mode = f.integer("resize_mode", 0, 0, 1);
        String name1 = f.text("upscaler_1", "None");
        String name2 = f.text("upscaler_2", "None");
        ImageUpscaler first = ImageUpscaler.parse(name1, "field 'upscaler_1'");
        ImageUpscaler second = ImageUpscaler.parse(name2, "field 'upscaler_2'");
        double visibility = f.number("extras_upscaler_2_visibility", 0);
        if (visibility < 0 || visibility > 1) {
            throw new BadRequestException("field 'extras_upscaler_2_visibility' must be in [0, 1], got " + visibility);
        }
        Map<String, String> info = new LinkedHashMap<>();
        RgbImage out = image;
        if (first != ImageUpscaler.NONE) {
            out = upscale(image, first, mode, f, info);
            info.put("Postprocess upscaler", first.a1111Name());
            if (second != ImageUpscaler.NONE && visibility > 0) {
                RgbImage other = upscale(image, second, mode, f, new LinkedHashMap<>());
                out = blend(out, other, (float) visibility);
                info.put("Postprocess upscaler 2", second.a1111Name());
            }
        }
        List<String> parts = new ArrayList<>();
        info.forEach((k, v) -> parts.add(k + ": " + v));
        String text = String.join(", ", parts);
        byte[] png = Images.encodePng(out, text.isEmpty() ? Map.of() : Map.of("postprocessing", text));
        return new SingleImage("<p>" + escape(text) + "</p>", Base64.getEncoder().encodeToString(png));
    }

    private static RgbImage upscale(RgbImage image, ImageUpscaler upscaler, int mode, Fields f,
                                    Map<String, String> info) {
        if (mode == 1) {
            int w = f.integer("upscaling_resize_w", 512, 1, 8192);
            int h = f.integer("upscaling_resize_h", 512, 1, 8192);
            double by = Math.max((double) w / image.width(), (double) h / image.height());
            info.put("Postprocess upscale to", w + "x" + h);
            RgbImage up = upscaler.upscale(image, by);
            if (f.bool("upscaling_crop", true)) {
                up = centred(up, w, h);
                info.put("Postprocess crop to", w + "x" + h);
            }
            return up;
        }
        double scale = f.number("upscaling_resize", 2.0);
        if (!(scale > 0 && scale <= 8)) {
            throw new BadRequestException("field 'upscaling_resize' must be in (0, 8], got " + scale);
        }
        info.put("Postprocess upscale by", Double.toString(scale)); // pydantic made it a float: "2.0"
        return upscaler.upscale(image, scale);
    }

    /** Pillow's paste of {@code image} centred on a black w x h canvas (w // 2 - width // 2, ...), cropped. */
    static RgbImage centred(RgbImage image, int w, int h) {
        byte[] out = new byte[w * h * 3];
        int ox = w / 2 - image.width() / 2;
        int oy = h / 2 - image.height() / 2;
        for (int y = 0; y < image.height(); y++) {
            int ty = y + oy;
            if (ty < 0 || ty >= h) {
                continue;
            }
            for (int x = 0; x < image.width(); x++) {
                int tx = x + ox;
                if (tx >= 0 && tx < w) {
                    System.arraycopy(image.pixels(), (y * image.width() + x) * 3, out, (ty * w + tx) * 3, 3);
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    /** Pillow's Image.blend: a + alpha (b - a) in float, truncated to 8 bits. */
    static RgbImage blend(RgbImage a, RgbImage b, float alpha) {
        if (a.width() != b.width() || a.height() != b.height()) {
            throw new BadRequestException("upscaler_1 and upscaler_2 give different sizes: " + a.width() + "x"
                    + a.height() + " and " + b.width() + "x" + b.height());
        }
        byte[] out = new byte[a.pixels().length];
        for (int i = 0; i < out.length; i++) {
            int x = a.pixels()[i] & 0xff;
            int y = b.pixels()[i] & 0xff;
            float v = x + alpha * (y - x);
            out[i] = (byte) Math.min(255, Math.max(0, (int) v));
        }
        return new RgbImage(a.width(), a.height(), out);
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
                .replace("'", "&#x27;");
    }
}
