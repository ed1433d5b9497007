package dev.ldm4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Torch;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;

/** The matching of name retrieval: nearest distinct names, variants of one name counted once. */
class NameRetrievalTest {
    @Test
    void nearestDistinctNamesInDistanceOrder() {
        Torch.load();
        try (PointerScope scope = new PointerScope()) {
            // rows at 0, 1, 2, 10, 11 on a line; "apple" twice (a skin-tone-like variant)
            List<String> names = List.of("apple", "apple", "pear", "dog", "cat");
            var gallery = Tensors.fromFloats(new float[] {0, 1, 2, 10, 11}, 5, 1);
            var queries = Tensors.fromFloats(new float[] {0.9f, 10.4f}, 2, 1);
            List<List<String>> got = NameRetrieval.nearestNames(names, gallery, queries, 3);
            assertEquals(List.of("apple", "pear", "dog"), got.get(0));
            assertEquals(List.of("dog", "cat", "pear"), got.get(1));
        }
    }

    /** A name is missed only when no image of it is nearest to its own name; a top-5 hit is still a miss. */
    @Test
    void aNameIsMissedWhenNoImageIsNearestToItself() {
        assertEquals(null, NameRetrieval.miss("pizza", List.of(List.of("fire", "pizza"), List.of("pizza"))));
        assertEquals(new NameRetrieval.Miss("pizza", List.of("fire", "hot pepper")), NameRetrieval.miss("pizza",
                List.of(List.of("fire", "pizza"), List.of("hot pepper", "fire"))));
    }

    @Test
    void theNameIsTheCaptionsFirstTag() {
        assertEquals("waving hand", NameRetrieval.nameOf("waving hand, medium skin tone, wave, people & body"));
        assertEquals("rocket", NameRetrieval.nameOf("rocket"));
    }
}
