package dev.ldm4j.eval;

import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A 64x64 dataset folder in the emoji format with three easily told categories: red discs ("food & drink"),
 * blue squares ("symbols") and green stripes ("flags"), each drawn at a per-image offset, and a split.txt
 * holding out 3 discs, 2 squares and 1 flag (majority-class rate 0.5).
 */
public final class SyntheticEmoji {
    public static final int PER_CATEGORY = 10;
    public static final List<String> HELD_OUT = List.of("disc00.png", "disc01.png", "disc02.png", "square00.png",
            "square01.png", "stripes00.png");

    private SyntheticEmoji() {}

    public static Path write(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (int i = 0; i < PER_CATEGORY; i++) {
            int off = i % 5 * 2;
            write(dir, String.format("disc%02d", i), "red apple " + i + ", apple, food & drink, food fruit",
                    (x, y) -> (x - 32 - off) * (x - 32 - off) + (y - 30) * (y - 30) < 300 ? 0xdd2020 : 0xffffff);
            write(dir, String.format("square%02d", i), "blue square " + i + ", symbols, geometric",
                    (x, y) -> x > 14 + off && x < 46 + off && y > 16 && y < 48 ? 0x2040dd : 0xffffff);
            write(dir, String.format("stripes%02d", i), "flag: nowhere " + i + ", flags, country flag",
                    (x, y) -> y > 12 && y < 52 ? ((y + off) / 8 % 2 == 0 ? 0x20aa20 : 0xffffff) : 0xffffff);
        }
        Files.writeString(dir.resolve("split.txt"), "# held out\n" + String.join("\n", HELD_OUT) + "\n");
        return dir;
    }

    private interface Pixel {
        int rgb(int x, int y);
    }

    private static void write(Path dir, String name, String caption, Pixel p) throws IOException {
        byte[] px = new byte[64 * 64 * 3];
        Arrays.fill(px, (byte) 255);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                int c = p.rgb(x, y);
                px[(y * 64 + x) * 3] = (byte) (c >> 16);
                px[(y * 64 + x) * 3 + 1] = (byte) (c >> 8);
                px[(y * 64 + x) * 3 + 2] = (byte) c;
            }
        }
        Images.writePng(dir.resolve(name + ".png"), new RgbImage(64, 64, px));
        Files.writeString(dir.resolve(name + ".txt"), caption + "\n");
    }

}
