package dev.ldm4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.train.DatasetTrainingData;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TagDropoutTest {
    private static final String CAPTION = "red apple, apple ,food & drink, food fruit";

    @Test
    void rateZeroKeepsTheCaptionAndRateOneKeepsTheLeadingTags() {
        SplittableRandom r = new SplittableRandom(1);
        assertEquals(CAPTION, TagDropout.NONE.apply(CAPTION, r));
        assertEquals("red apple", new TagDropout(1, 1).apply(CAPTION, r));
        assertEquals("red apple, apple", new TagDropout(2, 1).apply(CAPTION, r));
        assertEquals("red apple", new TagDropout(0, 1).apply(CAPTION, r), "never an empty caption");
        assertEquals("red apple, apple, food & drink, food fruit", new TagDropout(9, 1).apply(CAPTION, r));
        assertThrows(BadRequestException.class, () -> new TagDropout(-1, 0.5));
        assertThrows(BadRequestException.class, () -> new TagDropout(1, 1.5));
        assertThrows(BadRequestException.class, () -> new TagDropout(1, Double.NaN));
    }

    @Test
    void eachLaterTagIsDroppedWithTheRateAndTheOrderIsKept() {
        TagDropout d = new TagDropout(1, 0.3);
        SplittableRandom r = new SplittableRandom(7);
        Map<String, Integer> kept = new HashMap<>();
        int n = 20000;
        for (int i = 0; i < n; i++) {
            String c = d.apply(CAPTION, r);
            assertTrue(c.startsWith("red apple"), c);
            List<String> tags = List.of(c.split(", "));
            List<String> all = List.of("red apple", "apple", "food & drink", "food fruit");
            assertEquals(tags, all.stream().filter(tags::contains).toList(), "order kept: " + c);
            tags.forEach(t -> kept.merge(t, 1, Integer::sum));
        }
        assertEquals(n, kept.get("red apple"));
        for (String t : List.of("apple", "food & drink", "food fruit")) {
            // binomial(20000, 0.7): standard deviation 65, so 4 sigma is 0.013
            assertEquals(0.7, kept.get(t) / (double) n, 0.013, t);
        }
    }

    @Test
    void theTrainingStreamDropsTagsRepeatably(@TempDir Path dir) {
        for (int i = 0; i < 3; i++) {
            TestImages.solid(dir.resolve("img" + i + ".png"), 4, 0x102030 * (i + 1));
            TestImages.text(dir.resolve("img" + i + ".txt"), "thing " + i + ", a, b, c, d, e");
        }
        Dataset ds = Dataset.open(dir, DatasetOptions.of(4));
        DatasetTrainingData plain = new DatasetTrainingData(ds, 5);
        DatasetTrainingData dropped = new DatasetTrainingData(ds, 5, new TagDropout(1, 0.5));
        List<String> first = dropped.batch(3, 6).captions();
        assertEquals(first, new DatasetTrainingData(ds, 5, new TagDropout(1, 0.5)).batch(3, 6).captions());
        List<String> full = plain.batch(3, 6).captions();
        for (int k = 0; k < 6; k++) {
            assertTrue(full.get(k).startsWith(first.get(k).split(",")[0]), "same example: " + full.get(k));
        }
        assertTrue(first.stream().anyMatch(c -> !full.contains(c)), "some tags dropped: " + first);
    }
}
