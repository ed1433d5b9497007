package dev.ldm4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.nn.Tensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetTest {
    @TempDir
    Path dir;

    @Test
    void captionsFromSameNameTextFiles() {
        TestImages.solid(dir.resolve("b.png"), 4, 0x00ff00);
        TestImages.text(dir.resolve("b.txt"), "\uFEFF  a green\r\n square \n");
        TestImages.solid(dir.resolve("a.JPG"), 4, 0x808080);
        TestImages.text(dir.resolve("a.txt"), "grey");
        TestImages.solid(dir.resolve("c.bmp"), 4, 0x0000ff);
        TestImages.text(dir.resolve("c.txt"), "blue");
        TestImages.text(dir.resolve("notes.txt"), "a caption without an image is ignored");
        TestImages.solid(dir.resolve("sub/deep.png"), 4, 0); // subfolders are not searched
        TestImages.text(dir.resolve("sub/deep.txt"), "deep");
        TestImages.solid(dir.resolve(".hidden.png"), 4, 0);

        Dataset d = Dataset.open(dir, DatasetOptions.of(4));
        assertEquals(3, d.size());
        assertEquals(List.of("a.JPG", "b.png", "c.bmp"), names(d));
        assertEquals(List.of("grey", "a green square", "blue"), captions(d));
        assertEquals(List.of(), d.skipped());
        Example green = d.get(1);
        assertEquals("b.png", green.name());
        assertArrayEquals(new long[] {3, 4, 4}, Tensors.shape(green.image()));
        float[] v = Tensors.toFloats(green.image());
        assertEquals(-1f, v[0]);          // R plane
        assertEquals(1f, v[16]);          // G plane
        assertEquals(-1f, v[32]);         // B plane
    }

    @Test
    void captionsFromMetadataJsonl() {
        TestImages.solid(dir.resolve("train/x.png"), 4, 0xffffff);
        TestImages.solid(dir.resolve("y.png"), 4, 0);
        TestImages.text(dir.resolve("y.txt"), "ignored: metadata.jsonl wins");
        TestImages.text(dir.resolve("metadata.jsonl"), String.join("\n",
                "{\"file_name\": \"y.png\", \"text\": \"a black \\\"square\\\", \\u00e9t\\u00e9\", \"extra\": 1}",
                "",
                "{\"file_name\": \"train/x.png\", \"text\": \"a white square\"}",
                ""));
        Dataset d = Dataset.open(dir, DatasetOptions.of(4));
        assertEquals(List.of("train/x.png", "y.png"), names(d));
        assertEquals(List.of("a white square", "a black \"square\", été"), captions(d));
        assertEquals(List.of(), d.skipped());
    }

    @Test
    void badFilesAreSkippedAndNamed() throws IOException {
        TestImages.solid(dir.resolve("good.png"), 4, 0x123456);
        TestImages.text(dir.resolve("good.txt"), "good");
        TestImages.solid(dir.resolve("nocaption.png"), 4, 0);
        TestImages.solid(dir.resolve("empty.png"), 4, 0);
        TestImages.text(dir.resolve("empty.txt"), " \n\t ");
        Files.write(dir.resolve("broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        TestImages.text(dir.resolve("broken.txt"), "broken");
        byte[] png = Files.readAllBytes(dir.resolve("good.png"));
        Files.write(dir.resolve("truncated.png"), java.util.Arrays.copyOf(png, png.length / 2));
        TestImages.text(dir.resolve("truncated.txt"), "truncated");
        Files.writeString(dir.resolve("fake.webp"), "not really an image");
        TestImages.text(dir.resolve("fake.txt"), "webp");

        Dataset d = Dataset.open(dir, DatasetOptions.of(4));
        assertEquals(List.of("good.png"), names(d));
        Map<String, String> skipped = reasons(d);
        assertEquals(List.of("broken.png", "empty.png", "fake.webp", "nocaption.png", "truncated.png"),
                new ArrayList<>(skipped.keySet()));
        assertTrue(skipped.get("nocaption.png").contains("no caption file nocaption.txt"), skipped.toString());
        assertTrue(skipped.get("empty.png").contains("empty.txt is empty"), skipped.toString());
        assertFalse(skipped.get("broken.png").contains(dir.toString()), "the reason does not repeat the path");
    }

    @Test
    void badMetadataLinesAreSkippedAndNamed() {
        TestImages.solid(dir.resolve("ok.png"), 4, 0);
        TestImages.solid(dir.resolve("twice.png"), 4, 0);
        TestImages.text(dir.resolve("metadata.jsonl"), String.join("\n",
                "{\"file_name\": \"ok.png\", \"text\": \"fine\"}",
                "{not json",
                "[1, 2]",
                "{\"text\": \"no file\"}",
                "{\"file_name\": \"gone.png\", \"text\": \"missing\"}",
                "{\"file_name\": \"twice.png\", \"text\": \"first\"}",
                "{\"file_name\": \"twice.png\", \"text\": \"second\"}",
                "{\"file_name\": \"../outside.png\", \"text\": \"escape\"}",
                "{\"file_name\": \"ok.png\", \"text\": 5}",
                "{\"file_name\": \"ok.png\", \"text\": \"   \"}"));
        Dataset d = Dataset.open(dir, DatasetOptions.of(4));
        assertEquals(List.of("ok.png", "twice.png"), names(d));
        assertEquals(List.of("fine", "first"), captions(d));
        List<String> what = d.skipped().stream().map(Skipped::toString).toList();
        assertEquals(8, what.size(), what.toString());
        assertTrue(what.get(0).startsWith("metadata.jsonl line 2: not valid JSON"), what.get(0));
        assertTrue(what.get(1).startsWith("metadata.jsonl line 3: not a JSON object"), what.get(1));
        assertTrue(what.get(2).startsWith("metadata.jsonl line 4: no \"file_name\""), what.get(2));
        assertTrue(what.get(3).startsWith("gone.png: metadata.jsonl line 5 names a file that does not exist"),
                what.get(3));
        assertTrue(what.get(4).startsWith("twice.png: metadata.jsonl line 7 repeats"), what.get(4));
        assertTrue(what.get(5).contains("outside the dataset folder"), what.get(5));
    }

    @Test
    void emptyMissingOrAllBadFolderIsAClearError() throws IOException {
        DatasetException empty = assertThrows(DatasetException.class, () -> Dataset.open(dir, DatasetOptions.of(4)));
        assertTrue(empty.getMessage().contains(dir.toString()) && empty.getMessage().contains("no examples"),
                empty.getMessage());

        Path missing = dir.resolve("nope");
        DatasetException gone = assertThrows(DatasetException.class, () -> Dataset.open(missing, DatasetOptions.of(4)));
        assertTrue(gone.getMessage().contains(missing + " does not exist"), gone.getMessage());

        Path file = TestImages.text(dir.resolve("file.txt"), "x");
        DatasetException notDir = assertThrows(DatasetException.class, () -> Dataset.open(file, DatasetOptions.of(4)));
        assertTrue(notDir.getMessage().contains("not a directory"), notDir.getMessage());

        Files.writeString(dir.resolve("bad.png"), "garbage");
        TestImages.text(dir.resolve("bad.txt"), "bad");
        DatasetException allBad = assertThrows(DatasetException.class, () -> Dataset.open(dir, DatasetOptions.of(4)));
        assertTrue(allBad.getMessage().contains("no usable examples") && allBad.getMessage().contains("bad.png"),
                allBad.getMessage());
    }

    @Test
    void mixedSizesAreResizedToTheTrainingSize() {
        TestImages.solid(dir.resolve("small.png"), 3, 0xff0000);
        TestImages.write(dir.resolve("wide.jpg"), 40, 10, (x, y) -> 0x0000ff);
        TestImages.write(dir.resolve("tall.png"), 9, 31, (x, y) -> 0x00ff00);
        for (String s : List.of("small", "wide", "tall")) {
            TestImages.text(dir.resolve(s + ".txt"), s);
        }
        for (boolean cache : new boolean[] {true, false}) {
            Dataset d = Dataset.open(dir, DatasetOptions.of(8).withCache(cache));
            assertEquals(3, d.size());
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(new long[] {3, 8, 8}, Tensors.shape(d.get(i).image()));
            }
            float[] tall = Tensors.toFloats(d.get(1).image());
            assertEquals(1f, tall[64 + 27]); // green plane, exact: a uniform image stays uniform
        }
    }

    @Test
    void transparencyIsCompositedOnWhite() {
        // left half fully transparent red, right half opaque black, bottom-right pixel half-transparent black
        TestImages.writeArgb(dir.resolve("alpha.png"), 4, 4,
                (x, y) -> x < 2 ? 0x00ff0000 : (x == 3 && y == 3 ? 0x80000000 : 0xff000000));
        TestImages.text(dir.resolve("alpha.txt"), "alpha");
        float[] v = Tensors.toFloats(Dataset.open(dir, DatasetOptions.of(4)).get(0).image());
        for (int c = 0; c < 3; c++) {
            int plane = c * 16;
            assertEquals(1f, v[plane], "transparent -> white, channel " + c);
            assertEquals(1f, v[plane + 5], "transparent -> white, channel " + c);
            assertEquals(-1f, v[plane + 2], "opaque black, channel " + c);
            // 0 over white with coverage 128/255: round(255 * 127 / 255) = 127
            assertEquals(2f * (127 / 255f) - 1f, v[plane + 15], "half-transparent black, channel " + c);
        }
    }

    @Test
    void flipsAreSeededPerEpochAndExample() {
        for (int i = 0; i < 12; i++) {
            int k = i;
            TestImages.write(dir.resolve("img" + i + ".png"), 4, 4, (x, y) -> (x * 60) << 16 | k);
            TestImages.text(dir.resolve("img" + i + ".txt"), "image " + i);
        }
        DatasetOptions opts = DatasetOptions.of(4).withFlip(true).withSeed(7);
        Dataset a = Dataset.open(dir, opts);
        Dataset b = Dataset.open(dir, opts.withCache(false));
        Dataset other = Dataset.open(dir, opts.withSeed(8));
        Dataset none = Dataset.open(dir, DatasetOptions.of(4));
        int flips = 0;
        boolean seedMatters = false;
        for (long epoch = 0; epoch < 4; epoch++) {
            for (int i = 0; i < a.size(); i++) {
                float[] plain = Tensors.toFloats(a.get(i).image());
                float[] seen = Tensors.toFloats(a.get(i, epoch).image());
                assertArrayEquals(seen, Tensors.toFloats(a.get(i, epoch).image()), "same call, same image");
                assertArrayEquals(seen, Tensors.toFloats(b.get(i, epoch).image()), "same seed, other instance");
                assertArrayEquals(plain, Tensors.toFloats(none.get(i, epoch).image()), "flip off");
                boolean flipped = a.flipped(i, epoch);
                assertArrayEquals(flipped ? mirror(plain, 4) : plain, seen);
                assertNotEquals(plain[0], mirror(plain, 4)[0], "the test image is not symmetric");
                flips += flipped ? 1 : 0;
                seedMatters |= flipped != other.flipped(i, epoch);
            }
        }
        assertTrue(flips > 12 && flips < 36, "about half of 48 flipped, got " + flips);
        assertTrue(seedMatters, "another seed flips other examples");
        assertTrue(IntStream.range(0, 12).anyMatch(i -> a.flipped(i, 0) != a.flipped(i, 1)), "epochs differ");
    }

    @Test
    void indicesOutOfRangeAreRefused() {
        TestImages.solid(dir.resolve("a.png"), 4, 0);
        TestImages.text(dir.resolve("a.txt"), "a");
        Dataset d = Dataset.open(dir, DatasetOptions.of(4));
        assertThrows(IndexOutOfBoundsException.class, () -> d.get(1));
        assertThrows(IndexOutOfBoundsException.class, () -> d.get(-1));
        assertThrows(BadRequestException.class, () -> DatasetOptions.of(0));
    }

    static float[] mirror(float[] chw, int n) {
        float[] out = new float[chw.length];
        for (int p = 0; p < chw.length; p += n) {
            for (int x = 0; x < n; x++) {
                out[p + x] = chw[p + n - 1 - x];
            }
        }
        return out;
    }

    static List<String> names(Dataset d) {
        return IntStream.range(0, d.size()).mapToObj(d::name).toList();
    }

    static List<String> captions(Dataset d) {
        return IntStream.range(0, d.size()).mapToObj(d::caption).toList();
    }

    private static Map<String, String> reasons(Dataset d) {
        Map<String, String> m = new TreeMap<>();
        d.skipped().forEach(s -> m.put(s.name(), s.reason()));
        return m;
    }

}
