package dev.ldm4j.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntBinaryOperator;
import javax.imageio.ImageIO;

/** Writes small synthetic images and captions with ImageIO, independently of the code under test. */
public final class TestImages {
    private TestImages() {}

    /** A w x h opaque image whose pixel (x, y) is the 0xRRGGBB colour {@code rgb(x, y)}. */
    public static Path write(Path file, int w, int h, IntBinaryOperator rgb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rgb.applyAsInt(x, y));
            }
        }
        return save(file, img);
    }

    /** A w x h RGBA PNG whose pixel (x, y) is the 0xAARRGGBB colour {@code argb(x, y)}. */
    public static Path writeArgb(Path file, int w, int h, IntBinaryOperator argb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, argb.applyAsInt(x, y));
            }
        }
        return save(file, img);
    }

    public static Path solid(Path file, int size, int rgb) {
        return write(file, size, size, (x, y) -> rgb);
    }

    public static Path text(Path file, String content) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            return Files.writeString(file, content, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path save(Path file, BufferedImage img) {
        String name = file.getFileName().toString();
        String format = name.substring(name.lastIndexOf('.') + 1).toLowerCase();
        if (format.equals("jpg")) {
            format = "jpeg";
        }
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            if (!ImageIO.write(img, format, file.toFile())) {
                throw new IllegalStateException("no ImageIO writer for " + format);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }
}
