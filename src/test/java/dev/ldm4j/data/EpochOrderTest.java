package dev.ldm4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The one visiting order of training data: permutations per epoch, one stream across them, by seed alone. */
class EpochOrderTest {
    @Test
    void epochsArePermutationsAndTheStreamRunsThroughThem() {
        EpochOrder o = new EpochOrder(7, 11);
        int[] e0 = o.order(0);
        int[] e1 = o.order(1);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6}, Arrays.stream(e0).sorted().toArray());
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6}, Arrays.stream(e1).sorted().toArray());
        assertFalse(Arrays.equals(e0, e1), "each epoch is shuffled anew");
        // batch 2 of 3 covers positions 6, 7, 8: the last of epoch 0, then the first two of epoch 1
        assertArrayEquals(new int[] {e0[6], e1[0], e1[1]}, o.batch(2, 3));
        for (int p = 0; p < 14; p++) {
            assertEquals((p < 7 ? e0 : e1)[p % 7], o.at(p));
        }
    }

    @Test
    void theSeedAloneFixesTheOrder() {
        assertArrayEquals(new EpochOrder(50, 3).order(4), new EpochOrder(50, 3).order(4));
        assertFalse(Arrays.equals(new EpochOrder(50, 3).order(4), new EpochOrder(50, 4).order(4)));
        EpochOrder o = new EpochOrder(5, 1);
        o.order(0)[0] = 99;  // a copy: the order itself is not changed
        assertArrayEquals(new EpochOrder(5, 1).order(0), o.order(0));
        assertThrows(IllegalArgumentException.class, () -> new EpochOrder(0, 1));
        assertThrows(IllegalArgumentException.class, () -> o.batch(-1, 2));
    }
}
