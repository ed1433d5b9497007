package dev.ldm4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.GrayImage;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.PillowCompositing;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.sampling.StepListener;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Outpainting and AUTOMATIC1111's inpainting options on the tiny models (sd1-tiny, and the 9-channel
 * sd1-tiny-inpaint): what they must keep, their sizes, and invert-mask against an inverted mask file.
 */
class MaskedInpaintTest {
    private static LatentDiffusionModel normal;
    private static LatentDiffusionModel inpainting;

    private static LatentDiffusionModel model(String folder) {
        if (folder.equals("sd1-tiny")) {
            if (normal == null) {
                normal = load(folder);
            }
            return normal;
        }
        if (inpainting == null) {
            inpainting = load(folder);
        }
        return inpainting;
    }

    private static LatentDiffusionModel load(String folder) {
        return ModelLoader.load(new ModelLoader.Options(Fixtures.path(folder + "/model.safetensors"),
                Fixtures.path(folder + "/config.yaml"), null, null));
    }

    @AfterAll
    static void close() {
        if (normal != null) {
            normal.close();
        }
        if (inpainting != null) {
            inpainting.close();
        }
        normal = null;
        inpainting = null;
    }

    private static RgbImage photo(int w, int h) {
        RgbImage p = Images.readRgb(Fixtures.path("sd1-tiny/photo_64.png"));
        return MaskedInpaint.crop(p, new MaskedInpaint.Region(0, 0, w, h));
    }

    private static RgbImage run(String folder, InitImage init, double strength) {
        GenerationRequest r = new GenerationRequest("a red barn", "", init.image().width(), init.image().height(),
                4, 7.5, "euler_a", "discrete", 0, 5, 1, 0, init.withStrength(strength));
        try (GenerationResult result = new Generator(model(folder)).generate(r, StepListener.NONE)) {
            List<RgbImage> images = ImageTensors.toRgb8(result.images());
            assertEquals(1, images.size());
            return images.get(0);
        }
    }

    /** Pixels where the blurred mask is 0 equal the input's; returns how many there are. */
    private static int assertKeptOutsideBlur(RgbImage input, GrayImage blurred, RgbImage output) {
        int kept = 0;
        for (int y = 0; y < input.height(); y++) {
            for (int x = 0; x < input.width(); x++) {
                if (blurred.get(x, y) == 0) {
                    kept++;
                    for (int c = 0; c < 3; c++) {
                        assertEquals(input.get(x, y, c), output.get(x, y, c), "pixel (" + x + ", " + y + ")");
                    }
                }
            }
        }
        return kept;
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"sd1-tiny, fill, 1.0", "sd1-tiny, latent-noise, 0.8", "sd1-tiny, original, 0.6",
        "sd1-tiny-inpaint, fill, 1.0", "sd1-tiny-inpaint, latent-nothing, 0.8"})
    void outpaintingGrowsTheImageAndKeepsItOutsideTheBlurBand(String folder, String content, double strength) {
        RgbImage small = photo(40, 48);
        Outpaint out = new Outpaint(8, 0, 16, 8);
        MaskOptions options = new MaskOptions(4, false, MaskOptions.MaskedContent.parse(content), false, 32);
        InitImage init = out.apply(InitImage.of(small, 1.0), options);
        assertEquals(64, init.image().width());
        assertEquals(56, init.image().height());
        RgbImage result = run(folder, init, strength);
        assertEquals(64, result.width());
        assertEquals(56, result.height());
        GrayImage blurred = MaskedInpaint.preparedMask(init.mask(), init.maskOptions());
        int kept = assertKeptOutsideBlur(init.image(), blurred, result);
        // the original is 40x48; the mask overlaps it by 4 pixels and blurs 2 * int(2.5 * 4 + 0.5) + 1 = 21 wide
        assertTrue(kept >= (40 - 4 - 4 - 2 * 10) * (48 - 4 - 10), "kept " + kept);
        // and every kept pixel lies in the original
        for (int y = 0; y < 56; y++) {
            for (int x = 0; x < 64; x++) {
                if (blurred.get(x, y) == 0) {
                    assertTrue(x >= 8 && x < 48 && y < 48, "(" + x + ", " + y + ") kept outside the original");
                }
            }
        }
        // the new area is repainted, not left as the stretched edge
        int changed = 0;
        for (int y = 0; y < 56; y++) {
            for (int x = 48; x < 64; x++) {
                changed += result.get(x, y, 0) != init.image().get(x, y, 0) ? 1 : 0;
            }
        }
        assertTrue(changed > 56 * 16 / 2, "only " + changed + " pixels of the right border changed");
    }

    @ParameterizedTest(name = "{0} only masked {1}")
    @CsvSource({"sd1-tiny, false", "sd1-tiny, true", "sd1-tiny-inpaint, true"})
    void invertMaskEqualsTheInvertedMaskFile(String folder, boolean onlyMasked) {
        RgbImage image = photo(64, 64);
        GrayImage mask = Images.readGray(Fixtures.path("sd1-tiny/mask_64.png"));
        MaskOptions invert = new MaskOptions(3, true, MaskOptions.MaskedContent.FILL, onlyMasked, 8);
        MaskOptions plain = new MaskOptions(3, false, MaskOptions.MaskedContent.FILL, onlyMasked, 8);
        RgbImage a = run(folder, new InitImage(image, mask, 1.0, InitImage.Encoding.SAMPLE,
                InitImage.Noising.COMPVIS, 20, invert), 0.9);
        RgbImage b = run(folder, new InitImage(image, PillowCompositing.invert(mask), 1.0, InitImage.Encoding.SAMPLE,
                InitImage.Noising.COMPVIS, 20, plain), 0.9);
        assertArrayEquals(b.pixels(), a.pixels());
        // and the inverted mask's black area is kept
        GrayImage blurred = MaskedInpaint.preparedMask(mask, invert);
        assertTrue(assertKeptOutsideBlur(image, blurred, a) > 0);
    }

    @Test
    void onlyMaskedKeepsEverythingOutsideTheMaskAndItsBlur() {
        RgbImage image = photo(64, 64);
        byte[] px = new byte[64 * 64];
        for (int y = 40; y < 52; y++) {
            for (int x = 10; x < 26; x++) {
                px[y * 64 + x] = (byte) 255;
            }
        }
        GrayImage mask = new GrayImage(64, 64, px);
        MaskOptions o = new MaskOptions(2, false, MaskOptions.MaskedContent.ORIGINAL, true, 4);
        MaskedInpaint.Region crop = MaskedInpaint.Region.around(MaskedInpaint.preparedMask(mask, o), 4, 64, 64);
        // the blurred box (x 5..30, y 35..56 with the 11-tap blur), padded by 4 and made square
        assertEquals(crop.width(), crop.height());
        assertTrue(crop.x1() <= 10 - 4 && crop.x2() >= 26 + 4 && crop.y1() <= 40 - 4 && crop.y2() >= 52 + 4, "" + crop);
        RgbImage result = run("sd1-tiny", new InitImage(image, mask, 1.0, InitImage.Encoding.SAMPLE,
                InitImage.Noising.COMPVIS, 20, o), 0.75);
        int kept = assertKeptOutsideBlur(image, MaskedInpaint.preparedMask(mask, o), result);
        assertTrue(kept > 64 * 64 - 30 * 25, "kept " + kept);
        boolean changed = false;
        for (int c = 0; c < 3; c++) {
            changed |= result.get(18, 46, c) != image.get(18, 46, c);
        }
        assertTrue(changed, "the masked area was not repainted");
    }

    @Test
    void cropRegionFollowsA1111() {
        // a 10x4 box at (20, 30), padding 2 -> (18, 28, 32, 36); 14x8 widened to the 64x64 ratio -> 14x14
        byte[] px = new byte[64 * 64];
        for (int y = 30; y < 34; y++) {
            for (int x = 20; x < 30; x++) {
                px[y * 64 + x] = 1;
            }
        }
        assertEquals(new MaskedInpaint.Region(18, 25, 32, 39),
                MaskedInpaint.Region.around(new GrayImage(64, 64, px), 2, 64, 64));
        // at the bottom edge the region is shifted back inside
        px = new byte[64 * 64];
        px[63 * 64 + 5] = 1;
        assertEquals(new MaskedInpaint.Region(0, 53, 11, 64),
                MaskedInpaint.Region.around(new GrayImage(64, 64, px), 5, 64, 64));
    }
}
