package dev.ldm4j.server;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.GrayImage;
import dev.ldm4j.io.ImageFileException;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import java.util.Base64;
import java.util.Map;

/** Images in JSON bodies: base64 strings, with or without a {@code data:image/...;base64,} prefix. */
final class Base64Images {
    private Base64Images() {}

    static byte[] bytes(String field, String value) {
        String data = value.strip();
        if (data.startsWith("data:")) {
            int comma = data.indexOf(',');
            if (comma < 0 || !data.substring(0, comma).endsWith(";base64")) {
                throw new BadRequestException("field '" + field + "': a data URL must be base64 (data:image/png;base64,...)");
            }
            data = data.substring(comma + 1);
        }
        try {
            // MIME: web clients wrap long base64 lines
            return Base64.getMimeDecoder().decode(data);
        } catch (IllegalArgumentException e) {
            throw new BadRequestException("field '" + field + "' is not valid base64 (" + e.getMessage() + ")");
        }
    }

    static RgbImage rgb(String field, String value) {
        try {
            return Images.decodeRgb(bytes(field, value), "field '" + field + "'");
        } catch (ImageFileException e) {
            throw new BadRequestException(e.getMessage(), e);
        }
    }

    static GrayImage gray(String field, String value) {
        try {
            return Images.decodeGray(bytes(field, value), "field '" + field + "'");
        } catch (ImageFileException e) {
            throw new BadRequestException(e.getMessage(), e);
        }
    }

    static Map<String, String> pngText(String field, String value) {
        try {
            return Images.decodeText(bytes(field, value), "field '" + field + "'");
        } catch (ImageFileException e) {
            throw new BadRequestException(e.getMessage(), e);
        }
    }

    /** A PNG without text chunks (a preview), base64-encoded without a prefix. */
    static String png(RgbImage image) {
        return Base64.getEncoder().encodeToString(Images.encodePng(image, Map.of()));
    }

    /** A PNG carrying AUTOMATIC1111's parameters text, base64-encoded without a prefix (as A1111 answers). */
    static String png(RgbImage image, String parameters) {
        return Base64.getEncoder().encodeToString(Images.encodePng(image, Map.of(Images.PARAMETERS, parameters)));
    }
}
