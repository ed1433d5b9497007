package dev.ldm4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImagesTest {
    @TempDir
    Path dir;

    private static final String A1111 = "a photo of a cat, (masterpiece:1.2)\n"
            + "Negative prompt: blurry, lowres\n"
            + "Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 42, Size: 64x64, Model: sd1-tiny";

    @Test
    void rgbPngRoundTripsPixelExact() throws IOException {
        RgbImage img = randomImage(37, 23, 1);
        Path p = dir.resolve("img.png");
        Images.writePng(p, img);
        RgbImage back = Images.readRgb(p);
        assertEquals(37, back.width());
        assertEquals(23, back.height());
        assertArrayEquals(img.pixels(), back.pixels());
        byte[] ihdr = chunks(p).get(0).data;
        assertEquals(8, ihdr[8], "bit depth");
        assertEquals(2, ihdr[9], "colour type RGB");
        assertEquals(List.of(p), list(dir), "no temporary files left");
    }

    @Test
    void parametersTextRoundTrips() throws IOException {
        Path p = dir.resolve("a1111.png");
        Images.writePng(p, randomImage(8, 8, 2), Map.of(Images.PARAMETERS, A1111));
        assertEquals(Map.of("parameters", A1111), Images.readText(p));
        Chunk text = only(chunks(p), "tEXt");
        assertArrayEquals(("parameters\0" + A1111).getBytes(StandardCharsets.ISO_8859_1), text.data);
        assertTrue(indexOf(chunks(p), "tEXt") < indexOf(chunks(p), "IDAT"), "text before the image data");
    }

    @Test
    void latin1TextStaysTextAndOtherTextBecomesUtf8Itxt() throws IOException {
        String latin = "café crème, naïve ±½";
        String unicode = "一只猫 — a cat ✓ 😀\nNegative prompt: Ärger, Ωmega";
        Map<String, String> text = new LinkedHashMap<>();
        text.put("latin", latin);
        text.put(Images.PARAMETERS, unicode);
        Path p = dir.resolve("intl.png");
        Images.writePng(p, randomImage(5, 4, 3), text);

        assertEquals(text, Images.readText(p));
        List<Chunk> chunks = chunks(p);
        assertArrayEquals(("latin\0" + latin).getBytes(StandardCharsets.ISO_8859_1), only(chunks, "tEXt").data);
        // iTXt: keyword, 0, compression flag 0, method 0, language tag "", 0, translated keyword "", 0, UTF-8 text
        ByteBuffer expected = ByteBuffer.allocate(200);
        expected.put("parameters".getBytes(StandardCharsets.ISO_8859_1)).put(new byte[] {0, 0, 0, 0, 0})
                .put(unicode.getBytes(StandardCharsets.UTF_8));
        assertArrayEquals(Arrays.copyOf(expected.array(), expected.position()), only(chunks, "iTXt").data);
        assertArrayEquals(randomImage(5, 4, 3).pixels(), Images.readRgb(p).pixels());
    }

    @Test
    void invalidKeywordIsRejectedBeforeWriting() {
        Path p = dir.resolve("bad.png");
        assertThrows(IllegalArgumentException.class, () -> Images.writePng(p, randomImage(2, 2, 4), Map.of("", "x")));
        assertThrows(IllegalArgumentException.class,
                () -> Images.writePng(p, randomImage(2, 2, 4), Map.of("猫", "x")));
        assertThrows(IllegalArgumentException.class,
                () -> Images.writePng(p, randomImage(2, 2, 4), Map.of("k".repeat(80), "x")));
        assertFalse(Files.exists(p));
    }

    @Test
    void grayMaskRoundTrips() throws IOException {
        byte[] px = new byte[31 * 17];
        new Random(5).nextBytes(px);
        Path p = dir.resolve("mask.png");
        Images.writePng(p, new GrayImage(31, 17, px));
        assertEquals(0, chunks(p).get(0).data[9], "colour type gray");
        assertArrayEquals(px, Images.readGray(p).pixels());
        RgbImage rgb = Images.readRgb(p);
        for (int i = 0; i < px.length; i++) {
            assertEquals(px[i], rgb.pixels()[3 * i]);
            assertEquals(px[i], rgb.pixels()[3 * i + 1]);
            assertEquals(px[i], rgb.pixels()[3 * i + 2]);
        }
    }

    @Test
    void colourToGrayUsesRec601Luma() throws IOException {
        RgbImage img = new RgbImage(4, 1, new byte[] {
                (byte) 255, 0, 0,   0, (byte) 255, 0,   0, 0, (byte) 255,   (byte) 200, (byte) 100, 50});
        Path p = dir.resolve("colours.png");
        Images.writePng(p, img);
        // 0.299 * 255 = 76.2, 0.587 * 255 = 149.7, 0.114 * 255 = 29.1, 0.299*200 + 0.587*100 + 0.114*50 = 124.2
        assertArrayEquals(new byte[] {76, (byte) 150, 29, 124}, Images.readGray(p).pixels());
    }

    @Test
    void alphaIsCompositedOnWhite() throws IOException {
        BufferedImage argb = new BufferedImage(3, 1, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0xFF102030);   // opaque
        argb.setRGB(1, 0, 0x00102030);   // fully transparent
        argb.setRGB(2, 0, 0x80646464);   // alpha 128 over white: (100 * 128 + 255 * 127) / 255 = 177.2
        Path p = dir.resolve("alpha.png");
        assertTrue(ImageIO.write(argb, "png", p.toFile()));
        assertArrayEquals(new byte[] {0x10, 0x20, 0x30, -1, -1, -1, (byte) 177, (byte) 177, (byte) 177},
                Images.readRgb(p).pixels());
    }

    @Test
    void paletteAnd16BitImages() throws IOException {
        byte[] r = {0, (byte) 255, 10};
        byte[] g = {0, 0, 20};
        byte[] b = {0, 0, 30};
        byte[] a = {(byte) 255, (byte) 255, 0};
        BufferedImage indexed = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_INDEXED,
                new IndexColorModel(2, 3, r, g, b, a));
        WritableRaster raster = indexed.getRaster();
        raster.setSample(0, 0, 0, 1);
        raster.setSample(1, 0, 0, 0);
        raster.setSample(2, 0, 0, 2);
        Path p = dir.resolve("palette.png");
        assertTrue(ImageIO.write(indexed, "png", p.toFile()));
        assertArrayEquals(new byte[] {-1, 0, 0, 0, 0, 0, -1, -1, -1}, Images.readRgb(p).pixels());

        BufferedImage deep = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
        deep.getRaster().setSample(0, 0, 0, 0xABCD);
        deep.getRaster().setSample(1, 0, 0, 0xFFFF);
        Path q = dir.resolve("deep.png");
        assertTrue(ImageIO.write(deep, "png", q.toFile()));
        assertEquals(16, chunks(q).get(0).data[8], "bit depth");
        assertArrayEquals(new byte[] {(byte) 0xAB, (byte) 0xFF}, Images.readGray(q).pixels());
    }

    @Test
    void readsJpeg() throws IOException {
        BufferedImage flat = new BufferedImage(16, 16, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                flat.setRGB(x, y, 0xC86432);
            }
        }
        Path p = dir.resolve("flat.jpg");
        assertTrue(ImageIO.write(flat, "jpeg", p.toFile()));
        RgbImage img = Images.readRgb(p);
        assertEquals(16, img.width());
        int[] expected = {0xC8, 0x64, 0x32};
        for (int i = 0; i < img.pixels().length; i++) {
            int v = img.pixels()[i] & 0xff;
            assertTrue(Math.abs(v - expected[i % 3]) <= 3, "JPEG value " + v + " far from " + expected[i % 3]);
        }
        assertEquals(Map.of(), Images.readText(p));
    }

    @Test
    void unreadableFilesGiveOneClearMessage() throws IOException {
        assertReadFails(dir.resolve("missing.png"), "no such file");
        assertReadFails(dir, "is a directory");
        assertReadFails(Files.writeString(dir.resolve("notes.png"), "just text, not an image"), "not an image");
        Path good = dir.resolve("good.png");
        Images.writePng(good, randomImage(64, 64, 6));
        byte[] all = Files.readAllBytes(good);
        Path cut = Files.write(dir.resolve("cut.png"), Arrays.copyOf(all, all.length / 2));
        assertReadFails(cut, "cannot decode");
    }

    @Test
    void unwritableLocationsGiveOneClearMessage() throws IOException {
        Path missing = dir.resolve("missing/dir/out.png");
        OutputFileException e = assertThrows(OutputFileException.class,
                () -> Images.writePng(missing, randomImage(2, 2, 7), Map.of(Images.PARAMETERS, "x")));
        assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("does not exist"),
                e.getMessage());
        OutputFileException d = assertThrows(OutputFileException.class,
                () -> Images.writePng(dir, randomImage(2, 2, 7)));
        assertTrue(d.getMessage().contains(dir.toString()) && d.getMessage().contains("is a directory"),
                d.getMessage());
    }

    // ------------------------------------------------------------------ helpers

    private static void assertReadFails(Path p, String fragment) {
        ImageFileException e = assertThrows(ImageFileException.class, () -> Images.readRgb(p));
        assertTrue(e.getMessage().contains(p.toString()), "message does not name the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "message lacks '" + fragment + "': " + e.getMessage());
    }

    static RgbImage randomImage(int w, int h, long seed) {
        byte[] px = new byte[w * h * 3];
        new Random(seed).nextBytes(px);
        return new RgbImage(w, h, px);
    }

    record Chunk(String type, byte[] data) {}

    /** The chunks of a PNG, parsed here independently of ImageIO. */
    static List<Chunk> chunks(Path p) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p));
        byte[] sig = new byte[8];
        b.get(sig);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, sig, "PNG signature");
        List<Chunk> out = new ArrayList<>();
        while (b.hasRemaining()) {
            int len = b.getInt();
            byte[] type = new byte[4];
            b.get(type);
            byte[] data = new byte[len];
            b.get(data);
            b.getInt(); // CRC
            out.add(new Chunk(new String(type, StandardCharsets.US_ASCII), data));
        }
        assertEquals("IEND", out.get(out.size() - 1).type);
        return out;
    }

    private static Chunk only(List<Chunk> chunks, String type) {
        List<Chunk> found = chunks.stream().filter(c -> c.type.equals(type)).toList();
        assertEquals(1, found.size(), "number of " + type + " chunks");
        return found.get(0);
    }

    private static int indexOf(List<Chunk> chunks, String type) {
        for (int i = 0; i < chunks.size(); i++) {
            if (chunks.get(i).type.equals(type)) {
                return i;
            }
        }
        return -1;
    }

    private static List<Path> list(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.sorted().toList();
        }
    }
}
