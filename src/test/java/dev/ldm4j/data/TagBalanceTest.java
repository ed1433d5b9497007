package dev.ldm4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ldm4j.io.BadRequestException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TagBalanceTest {
    @TempDir
    Path dir;

    @Test
    void aCaptionsGroupIsItsLastPartThatIsATag() {
        TagBalance b = new TagBalance(List.of("Objects", " symbols ", "food & drink"));
        assertEquals(List.of("objects", "symbols", "food & drink"), b.tags());
        assertEquals(Optional.of("food & drink"), b.groupOf("red apple, apple, Food & Drink, food-fruit"));
        // "symbols" as a name comes before the category field
        assertEquals(Optional.of("objects"), b.groupOf("symbols, objects, tool"));
        assertEquals(Optional.empty(), b.groupOf("a photo of a cat"));
        assertEquals(Optional.empty(), b.groupOf("objects-like, not a tag"));
        assertThrows(BadRequestException.class, () -> new TagBalance(List.of(" ", "")));
    }

    @Test
    void repeatsGrowWithTheSquareRootOfTheSizeRatioAndAreCapped() {
        // sqrt(n_max / n), rounded: 1, 1.41 -> 1, 2, 2.83 -> 3, 4, 10 -> capped at 8
        assertEquals(1, TagBalance.repeatsOf(400, 400));
        assertEquals(1, TagBalance.repeatsOf(400, 200));
        assertEquals(2, TagBalance.repeatsOf(400, 100));
        assertEquals(3, TagBalance.repeatsOf(400, 50));
        assertEquals(4, TagBalance.repeatsOf(400, 25));
        assertEquals(TagBalance.MAX_REPEATS, TagBalance.repeatsOf(400, 4));
    }

    @Test
    void aBalancedDatasetRepeatsRareGroupsAndKeepsUntaggedOnce() {
        // 16 "common", 4 "rare" (sqrt(16/4) = 2 repeats), 1 "single" (sqrt(16) = 4), 2 untagged
        int k = 0;
        for (int i = 0; i < 16; i++) {
            write("c" + k++, "thing " + i + ", common");
        }
        for (int i = 0; i < 4; i++) {
            write("r" + k++, "thing " + i + ", rare, sub");
        }
        write("s" + k++, "one, single");
        write("u" + k++, "no tag at all");
        write("u" + k++, "another, without");
        Dataset d = Dataset.open(dir, DatasetOptions.of(4));
        TagBalance b = new TagBalance(List.of("common", "rare", "single", "unused"));
        assertEquals(Map.of("common", 16, "rare", 4, "single", 1), b.counts(d));

        Dataset balanced = d.balanced(b);
        assertEquals(16 + 4 * 2 + 4 + 2, balanced.size());
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < balanced.size(); i++) {
            seen.merge(balanced.name(i), 1, Integer::sum);
        }
        for (int i = 0; i < d.size(); i++) {
            String name = d.name(i);
            int expected = name.startsWith("r") ? 2 : name.startsWith("s") ? 4 : 1;
            assertEquals(expected, seen.get(name), name);
        }
        // an epoch of the balanced view visits each copy once
        int[] order = balanced.batches(1, false, 7).order(3);
        assertEquals(balanced.size(), order.length);
        assertArrayEquals(java.util.stream.IntStream.range(0, balanced.size()).toArray(),
                java.util.Arrays.stream(order).sorted().toArray());
    }

    @Test
    void repeatCountsMustFitTheDataset() {
        write("a", "x");
        write("b", "y");
        Dataset d = Dataset.open(dir, DatasetOptions.of(4));
        assertThrows(IllegalArgumentException.class, () -> d.repeated(new int[] {1}));
        assertThrows(IllegalArgumentException.class, () -> d.repeated(new int[] {1, -1}));
        assertThrows(IllegalArgumentException.class, () -> d.repeated(new int[] {0, 0}));
        Dataset onlyB = d.repeated(new int[] {0, 3});
        assertEquals(3, onlyB.size());
        assertEquals("b.png", onlyB.name(2));
    }

    private void write(String name, String caption) {
        TestImages.solid(dir.resolve(name + ".png"), 4, 0x336699);
        TestImages.text(dir.resolve(name + ".txt"), caption);
    }
}
