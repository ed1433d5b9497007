package dev.ldm4j.io;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOInvalidTreeException;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.w3c.dom.Node;

/**
 * Reading and writing 8-bit images with javax.imageio: PNG (with text chunks) out, PNG / JPEG (and whatever
 * else ImageIO decodes) in. Pixel values are taken from the file as stored, without colour management, as
 * PIL does: an image read and written back keeps its exact bytes.
 */
public final class Images {
    /** The text key AUTOMATIC1111 (and tools that read its images) use for the generation parameters. */
    public static final String PARAMETERS = "parameters";

    /** Refuse decompression bombs before decoding: 8192 x 8192 is far beyond what the models make. */
    private static final long MAX_PIXELS = 1L << 26;

    private static final String PNG_FORMAT = "javax_imageio_png_1.0";

    private Images() {}

    // ---------------------------------------------------------------------------------------------- writing

    /** Writes an RGB PNG without text chunks. */
    public static void writePng(Path path, RgbImage image) {
        writePng(path, image, Map.of());
    }

    /**
     * Writes an 8-bit RGB PNG with the given text chunks (e.g. {@code Map.of(Images.PARAMETERS, text)}).
     * Text that Latin-1 can hold goes into a {@code tEXt} chunk, anything else into an uncompressed UTF-8
     * {@code iTXt} chunk, as PIL does for AUTOMATIC1111. The file appears atomically.
     *
     * @throws IllegalArgumentException for an invalid PNG keyword (1-79 Latin-1 characters)
     * @throws OutputFileException      when the file cannot be written
     */
    public static void writePng(Path path, RgbImage image, Map<String, String> text) {
        write(path, toBufferedImage(image), text);
    }

    /** {@code image} as an sRGB {@link BufferedImage} over the same pixel array (not a copy). */
    public static BufferedImage toBufferedImage(RgbImage image) {
        DataBufferByte buffer = new DataBufferByte(image.pixels(), image.pixels().length);
        WritableRaster raster = Raster.createInterleavedRaster(buffer, image.width(), image.height(),
                image.width() * 3, 3, new int[] {0, 1, 2}, null);
        ColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB), false, false,
                Transparency.OPAQUE, DataBuffer.TYPE_BYTE);
        return new BufferedImage(cm, raster, false, null);
    }

    /** Writes an 8-bit grayscale PNG (a mask). */
    public static void writePng(Path path, GrayImage image) {
        DataBufferByte buffer = new DataBufferByte(image.pixels(), image.pixels().length);
        WritableRaster raster = Raster.createInterleavedRaster(buffer, image.width(), image.height(),
                image.width(), 1, new int[] {0}, null);
        ColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_GRAY), false, false,
                Transparency.OPAQUE, DataBuffer.TYPE_BYTE);
        write(path, new BufferedImage(cm, raster, false, null), Map.of());
    }

    private static void write(Path path, BufferedImage img, Map<String, String> text) {
        AtomicFiles.write(path, out -> encode(img, text, out));
    }

    /**
     * An 8-bit RGB PNG with text chunks as bytes, as {@link #writePng(Path, RgbImage, Map)} writes it to a
     * file (an HTTP API sends it base64-encoded).
     */
    public static byte[] encodePng(RgbImage image, Map<String, String> text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            encode(toBufferedImage(image), text, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return out.toByteArray();
    }

    private static void encode(BufferedImage img, Map<String, String> text, OutputStream out) throws IOException {
        text.keySet().forEach(Images::checkKeyword);
        ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
        try {
            ImageWriteParam param = writer.getDefaultWriteParam();
            IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(img), param);
            addText(meta, text);
            // MemoryCacheImageOutputStream: ImageIO's default for streams may cache in the temp directory
            try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
                writer.setOutput(ios);
                writer.write(null, new IIOImage(img, null, meta), param);
            }
        } finally {
            writer.dispose();
        }
    }

    private static void addText(IIOMetadata meta, Map<String, String> text) {
        if (text.isEmpty()) {
            return;
        }
        IIOMetadataNode root = new IIOMetadataNode(PNG_FORMAT);
        IIOMetadataNode latin = new IIOMetadataNode("tEXt");
        IIOMetadataNode international = new IIOMetadataNode("iTXt");
        text.forEach((key, value) -> {
            if (value == null) {
                throw new IllegalArgumentException("PNG text '" + key + "' has no value");
            }
            if (isLatin1(value)) {
                IIOMetadataNode e = new IIOMetadataNode("tEXtEntry");
                e.setAttribute("keyword", key);
                e.setAttribute("value", value);
                latin.appendChild(e);
            } else {
                IIOMetadataNode e = new IIOMetadataNode("iTXtEntry");
                e.setAttribute("keyword", key);
                e.setAttribute("compressionFlag", "FALSE");
                e.setAttribute("compressionMethod", "0");
                e.setAttribute("languageTag", "");
                e.setAttribute("translatedKeyword", "");
                e.setAttribute("text", value);
                international.appendChild(e);
            }
        });
        if (latin.hasChildNodes()) {
            root.appendChild(latin);
        }
        if (international.hasChildNodes()) {
            root.appendChild(international);
        }
        try {
            meta.mergeTree(PNG_FORMAT, root);
        } catch (IIOInvalidTreeException e) {
            throw new IllegalArgumentException("invalid PNG text chunks: " + e.getMessage(), e);
        }
    }

    /** tEXt holds Latin-1 without NUL (the keyword separator). */
    private static boolean isLatin1(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == 0 || c > 0xff) {
                return false;
            }
        }
        return true;
    }

    private static void checkKeyword(String key) {
        boolean ok = key != null && !key.isEmpty() && key.length() <= 79 && !key.startsWith(" ") && !key.endsWith(" ")
                && !key.contains("  ");
        for (int i = 0; ok && i < key.length(); i++) {
            char c = key.charAt(i);
            ok = (c >= 32 && c <= 126) || (c >= 161 && c <= 255);
        }
        if (!ok) {
            throw new IllegalArgumentException("invalid PNG text keyword '" + key
                    + "' (1-79 printable Latin-1 characters, no leading, trailing or double spaces)");
        }
    }

    // ---------------------------------------------------------------------------------------------- reading

    /**
     * Reads an image as 8-bit RGB: grayscale is expanded to three equal channels, palette images are looked
     * up, 16-bit channels keep their high byte (as PIL does for
     * 16-bit RGB), and transparency is composited on white.
     *
     * @throws ImageFileException when the file is missing or not a decodable image (the message names it)
     */
    public static RgbImage readRgb(Path path) {
        return toRgb(decode(path).image, path.toString());
    }

    /** {@code img} as 8-bit RGB, by the rules of {@link #readRgb}; {@code source} names it in errors. */
    public static RgbImage toRgb(BufferedImage img, String source) {
        int w = img.getWidth();
        int h = img.getHeight();
        Rows rows = rows(source, img);
        byte[] out = new byte[w * h * 3];
        int[] r = new int[w];
        int[] g = new int[w];
        int[] b = new int[w];
        int[] a = new int[w];
        for (int y = 0; y < h; y++) {
            rows.read(y, r, g, b, a);
            int o = y * w * 3;
            for (int x = 0; x < w; x++) {
                out[o++] = (byte) overWhite(r[x], a[x]);
                out[o++] = (byte) overWhite(g[x], a[x]);
                out[o++] = (byte) overWhite(b[x], a[x]);
            }
        }
        return new RgbImage(w, h, out);
    }

    /**
     * Reads a mask (or any image) as its 8-bit luminance, PIL's "L": a gray image as stored, colour as
     * ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B, rounded). Alpha is ignored, as PIL's convert("L") does.
     */
    public static GrayImage readGray(Path path) {
        return toGray(decode(path).image, path.toString());
    }

    /** {@code img} as 8-bit luminance, by the rules of {@link #readGray}; {@code source} names it in errors. */
    public static GrayImage toGray(BufferedImage img, String source) {
        int w = img.getWidth();
        int h = img.getHeight();
        Rows rows = rows(source, img);
        byte[] out = new byte[w * h];
        int[] r = new int[w];
        int[] g = new int[w];
        int[] b = new int[w];
        int[] a = new int[w];
        for (int y = 0; y < h; y++) {
            rows.read(y, r, g, b, a);
            for (int x = 0; x < w; x++) {
                out[y * w + x] = (byte) luma(r[x], g[x], b[x]);
            }
        }
        return new GrayImage(w, h, out);
    }

    /**
     * The text chunks of a PNG ({@code tEXt}, {@code zTXt}, {@code iTXt}), keyword to text, grouped by chunk
     * type and in file order within a type (a repeated keyword keeps its last text); empty for other formats,
     * e.g. JPEG (AUTOMATIC1111 puts JPEG parameters into EXIF, which is not read).
     */
    public static Map<String, String> readText(Path path) {
        Decoded d = open(path, false);
        return d.text;
    }

    /** An encoded image (PNG, JPEG, ...) as 8-bit RGB by the rules of {@link #readRgb}; {@code source} names it. */
    public static RgbImage decodeRgb(byte[] data, String source) {
        return toRgb(open(source, data, true).image, source);
    }

    /** An encoded image as 8-bit luminance by the rules of {@link #readGray}; {@code source} names it. */
    public static GrayImage decodeGray(byte[] data, String source) {
        return toGray(open(source, data, true).image, source);
    }

    /** The text chunks of an encoded PNG, as {@link #readText} reads them from a file. */
    public static Map<String, String> decodeText(byte[] data, String source) {
        return open(source, data, false).text;
    }

    /** Channels of one row, 8-bit; a = 255 where the image has no alpha. */
    private interface Rows {
        void read(int y, int[] r, int[] g, int[] b, int[] a);
    }

    private static Rows rows(String path, BufferedImage img) {
        if (img.isAlphaPremultiplied()) {
            img.coerceData(false);
        }
        ColorModel cm = img.getColorModel();
        Raster raster = img.getRaster();
        int w = img.getWidth();
        if (cm instanceof IndexColorModel icm) {
            int[] idx = new int[w];
            return (y, r, g, b, a) -> {
                raster.getSamples(0, y, w, 1, 0, idx);
                for (int x = 0; x < w; x++) {
                    r[x] = icm.getRed(idx[x]);
                    g[x] = icm.getGreen(idx[x]);
                    b[x] = icm.getBlue(idx[x]);
                    a[x] = icm.getAlpha(idx[x]);
                }
            };
        }
        int type = cm.getColorSpace().getType();
        int colors = cm.getNumColorComponents();
        boolean gray = type == ColorSpace.TYPE_GRAY && colors == 1;
        if (!(gray || (type == ColorSpace.TYPE_RGB && colors == 3))) {
            throw new ImageFileException(path + ": unsupported colour space (only RGB and grayscale images; "
                    + "is it CMYK?)");
        }
        int tt = raster.getTransferType();
        if (tt != DataBuffer.TYPE_BYTE && tt != DataBuffer.TYPE_USHORT && tt != DataBuffer.TYPE_INT) {
            throw new ImageFileException(path + ": unsupported sample type (floating-point image?)");
        }
        int bands = raster.getNumBands();
        boolean alpha = cm.hasAlpha();
        int[] bits = new int[bands];
        for (int i = 0; i < bands; i++) {
            bits[i] = cm.getComponentSize(i);
        }
        int[] px = new int[w * bands];
        return (y, r, g, b, a) -> {
            raster.getPixels(0, y, w, 1, px);
            for (int x = 0, o = 0; x < w; x++, o += bands) {
                if (gray) {
                    int v = to8(px[o], bits[0]);
                    r[x] = v;
                    g[x] = v;
                    b[x] = v;
                    a[x] = alpha ? to8(px[o + 1], bits[1]) : 255;
                } else {
                    r[x] = to8(px[o], bits[0]);
                    g[x] = to8(px[o + 1], bits[1]);
                    b[x] = to8(px[o + 2], bits[2]);
                    a[x] = alpha ? to8(px[o + 3], bits[3]) : 255;
                }
            }
        };
    }

    private static int to8(int v, int bits) {
        if (bits == 8) {
            return v;
        }
        if (bits > 8) {
            return v >>> (bits - 8);
        }
        int max = (1 << bits) - 1;
        return (v * 255 + max / 2) / max;
    }

    /** c over white with coverage a, both 0..255, rounded to nearest. */
    private static int overWhite(int c, int a) {
        return a == 255 ? c : (c * a + 255 * (255 - a) + 127) / 255;
    }

    /** ITU-R 601 luma with the weights in 16-bit fixed point (they sum to exactly 65536). */
    private static int luma(int r, int g, int b) {
        return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
    }

    private record Decoded(BufferedImage image, Map<String, String> text) {}

    private static Decoded decode(Path path) {
        return open(path, true);
    }

    private static Decoded open(Path path, boolean pixels) {
        InputFiles.problem(path).ifPresent(why -> {
            throw new ImageFileException(path + ": " + (why.equals("is a directory") ? "is a directory, not an image" : why));
        });
        try (ImageInputStream in = ImageIO.createImageInputStream(path.toFile())) {
            return read(path.toString(), in, pixels);
        } catch (IOException e) {
            throw new ImageFileException(path + ": cannot decode image (" + e.getMessage() + ")", e);
        }
    }

    private static Decoded open(String source, byte[] data, boolean pixels) {
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
            return read(source, in, pixels);
        } catch (IOException e) {
            throw new ImageFileException(source + ": cannot decode image (" + e.getMessage() + ")", e);
        }
    }

    private static Decoded read(String path, ImageInputStream in, boolean pixels) {
        try {
            if (in == null) {
                throw new ImageFileException(path + ": cannot open");
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new ImageFileException(path + ": not an image file (expected PNG or JPEG)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, false);
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                BufferedImage image = null;
                if (pixels) {
                    long n = (long) reader.getWidth(0) * reader.getHeight(0);
                    if (n > MAX_PIXELS) {
                        throw new ImageFileException(path + ": image of " + reader.getWidth(0) + "x"
                                + reader.getHeight(0) + " pixels is too large (at most " + MAX_PIXELS + " pixels)");
                    }
                    image = reader.read(0);
                    if (!warnings.isEmpty()) {
                        // the JPEG reader only warns about missing data ("Premature end of JPEG file") and fills
                        // the rest with grey: a truncated file would pass as a picture
                        throw new ImageFileException(path + ": truncated or corrupt image (" + warnings.get(0) + ")");
                    }
                }
                return new Decoded(image, text(reader.getImageMetadata(0)));
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof ImageFileException i) {
                throw i;
            }
            throw new ImageFileException(path + ": cannot decode image (" + e.getMessage() + ")", e);
        }
    }

    private static Map<String, String> text(IIOMetadata meta) {
        if (meta == null || !PNG_FORMAT.equals(meta.getNativeMetadataFormatName())) {
            return Map.of();
        }
        Map<String, String> out = new LinkedHashMap<>();
        Node root = meta.getAsTree(PNG_FORMAT);
        for (Node chunk = root.getFirstChild(); chunk != null; chunk = chunk.getNextSibling()) {
            String valueAttr = switch (chunk.getNodeName()) {
                case "tEXt" -> "value";
                case "zTXt", "iTXt" -> "text";
                default -> null;
            };
            if (valueAttr == null) {
                continue;
            }
            for (Node e = chunk.getFirstChild(); e != null; e = e.getNextSibling()) {
                IIOMetadataNode entry = (IIOMetadataNode) e;
                out.put(entry.getAttribute("keyword"), entry.getAttribute(valueAttr));
            }
        }
        return Collections.unmodifiableMap(out);
    }
}
