package dev.ldm4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.nn.Tensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Reads the folder made by {@code scripts/fetch-emoji-dataset.sh} (default {@code data/emoji}, or
 * {@code -Dldm4j.emoji=DIR}); skipped where it has not been fetched, as on CI.
 */
class EmojiDatasetTest {
    @Test
    void readsTheFetchedEmojiDataset() {
        Path dir = Path.of(System.getProperty("ldm4j.emoji", "data/emoji"));
        Assumptions.assumeTrue(Files.isDirectory(dir),
                dir.toAbsolutePath() + " not found; run scripts/fetch-emoji-dataset.sh to fetch it");

        Dataset d = Dataset.open(dir, DatasetOptions.of(64));
        assertEquals(List.of(), d.skipped());
        assertEquals(3786, d.size(), "images of emoji-datasource-google 16.0.0 (1911 emoji + 1875 skin tones)");

        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < d.size(); i++) {
            index.put(d.name(i), i);
        }
        int grin = index.get("1f600.png");
        assertEquals("grinning face, grinning, smileys & emotion, face smiling", d.caption(grin));
        assertEquals("waving hand sign, medium skin tone, wave, people & body, hand fingers open",
                d.caption(index.get("1f44b-1f3fd.png")));
        Example e = d.get(grin);
        assertArrayEquals(new long[] {3, 64, 64}, Tensors.shape(e.image()));
        float[] v = Tensors.toFloats(e.image());
        for (int c = 0; c < 3; c++) {
            assertEquals(1f, v[c * 64 * 64], "transparent corner composited on white");
        }
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float x : v) {
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        assertTrue(min >= -1f && max <= 1f && min < 0f, "range [-1, 1] with some dark pixels");

        Split split = d.split();
        int held = split.heldOut().size();
        assertEquals(d.size(), split.train().size() + held);
        assertTrue(held > 0.03 * d.size() && held < 0.07 * d.size(), "about 5% held out, got " + held);
        // the script keeps each skin-tone variant on the side of its base emoji
        Set<String> heldNames = DatasetTest.names(split.heldOut()).stream().collect(Collectors.toSet());
        for (String name : index.keySet()) {
            String base = name.replaceAll("-1f3f[b-f]", "");
            if (!base.equals(name) && index.containsKey(base)) {
                assertEquals(heldNames.contains(base), heldNames.contains(name), name + " vs " + base);
            }
        }

        Batches b = split.train().batches(32, true, 0);
        assertEquals(split.train().size() / 32, b.batchesPerEpoch());
        Batch first = b.at(0);
        assertArrayEquals(new long[] {32, 3, 64, 64}, Tensors.shape(first.images()));
    }
}
