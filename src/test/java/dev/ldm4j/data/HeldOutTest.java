package dev.ldm4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeldOutTest {
    @TempDir
    Path dir;

    @Test
    void ruleMatchesTheShellOneLiner() {
        // computed with: h=$(printf %s "$NAME" | sha256sum | cut -c1-8); echo $(( 16#$h % 100 ))
        // img74.png -> 4, img117.png -> 4, img191.png -> 3, 1f600.png -> 27, cat.png -> 80, über.png -> 83
        List<String> held = IntStream.range(0, 201).mapToObj(i -> "img" + i + ".png")
                .filter(HeldOut::isHeldOut).toList();
        assertEquals(List.of("img74.png", "img117.png", "img191.png"), held);
        assertFalse(HeldOut.isHeldOut("1f600.png"));
        assertFalse(HeldOut.isHeldOut("über.png"));
    }

    @Test
    void aboutFivePercent() {
        long held = IntStream.range(0, 20000).filter(i -> HeldOut.isHeldOut("file" + i + ".png")).count();
        assertEquals(1000, held, 90); // 4.5 sigma of a binomial(20000, 0.05)
    }

    @Test
    void splitDependsOnNamesOnlyNotOnFileOrderOrOtherFiles() {
        List<String> names = new ArrayList<>(IntStream.range(0, 200).mapToObj(i -> "img" + i + ".png").toList());
        Collections.shuffle(names, new Random(1));
        Path a = dir.resolve("a");
        for (String n : names) {
            write(a, n);
        }
        Collections.shuffle(names, new Random(2));
        Path b = dir.resolve("b");
        for (String n : names.subList(0, 150)) {
            write(b, n);
        }
        write(b, "img74.png");
        write(b, "extra.png");
        Split sa = Dataset.open(a, DatasetOptions.of(2)).split();
        Split sb = Dataset.open(b, DatasetOptions.of(2)).split();
        List<String> heldA = DatasetTest.names(sa.heldOut());
        assertTrue(heldA.containsAll(List.of("img117.png", "img191.png", "img74.png")), heldA.toString());
        assertEquals(200, sa.train().size() + sa.heldOut().size());
        for (String n : DatasetTest.names(sb.heldOut())) {
            assertTrue(heldA.contains(n), n + " held out in b but not in a");
        }
        for (String n : DatasetTest.names(sb.train())) {
            assertFalse(heldA.contains(n), n + " trained on in b but held out in a");
        }
        assertTrue(DatasetTest.names(sb.heldOut()).contains("img74.png"));
    }

    @Test
    void splitFileOverridesTheRule() {
        for (String n : List.of("a.png", "b.png", "c.png", "img74.png")) {
            write(dir, n);
        }
        TestImages.text(dir.resolve(HeldOut.SPLIT_FILE), "# held out for evaluation\n\nb.png\nnot-there.png\n");
        Split s = Dataset.open(dir, DatasetOptions.of(2)).split();
        assertEquals(List.of("b.png"), DatasetTest.names(s.heldOut()));
        assertEquals(List.of("a.png", "c.png", "img74.png"), DatasetTest.names(s.train()));
        assertEquals("caption of b.png", s.heldOut().caption(0));
    }

    private static void write(Path folder, String name) {
        TestImages.solid(folder.resolve(name), 2, name.hashCode() & 0xffffff);
        TestImages.text(folder.resolve(name.replace(".png", ".txt")), "caption of " + name);
    }
}
