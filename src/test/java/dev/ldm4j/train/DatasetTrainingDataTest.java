package dev.ldm4j.train;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.data.Batch;
import dev.ldm4j.data.Dataset;
import dev.ldm4j.data.DatasetOptions;
import dev.ldm4j.data.TestImages;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dataset as the trainer's batch stream: repeatable, epoch after epoch, keys that name the pixels. */
class DatasetTrainingDataTest {
    @Test
    void batchesAreRepeatableCoverEachEpochAndNameFlips(@TempDir Path dir) {
        for (int i = 0; i < 5; i++) {
            int shade = 40 * i;
            TestImages.write(dir.resolve("img" + i + ".png"), 8, 8, (x, y) -> (shade << 16) | (x * 30 << 8) | y * 30);
            TestImages.text(dir.resolve("img" + i + ".txt"), "picture " + i);
        }
        Dataset ds = Dataset.open(dir, DatasetOptions.of(8).withFlip(true).withSeed(3));
        DatasetTrainingData data = new DatasetTrainingData(ds, 3);
        Batch a = data.batch(4, 3);
        Batch b = new DatasetTrainingData(ds, 3).batch(4, 3);
        assertClose(a.images(), b.images(), 0.0, "same batch twice");
        assertEquals(a.keys(), b.keys());
        // a batch of 7 from 5 images runs into the next epoch; the 5 first positions are one whole epoch
        Batch big = data.batch(0, 7);
        Set<String> firstEpoch = new HashSet<>();
        for (int k = 0; k < 5; k++) {
            firstEpoch.add(big.captions().get(k));
        }
        assertEquals(5, firstEpoch.size());
        // a key says whether the pixels are flipped, and the same key always means the same pixels
        Map<String, float[]> seen = new HashMap<>();
        for (long step = 0; step < 10; step++) {
            Batch batch = data.batch(step, 2);
            for (int k = 0; k < 2; k++) {
                float[] px = dev.ldm4j.nn.Tensors.toFloats(batch.images().select(0, k));
                float[] before = seen.putIfAbsent(batch.keys().get(k), px);
                assertTrue(before == null || java.util.Arrays.equals(before, px), batch.keys().get(k));
            }
        }
        assertTrue(seen.keySet().stream().anyMatch(k -> k.endsWith("#flipped")), "flips were on");
    }
}
