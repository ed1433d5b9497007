package dev.ldm4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.eval.SyntheticEmoji;
import dev.ldm4j.io.BadRequestException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NamePromptsTest {
    private static final NamePrompts EMOJI = new NamePrompts(0.5, Set.of("travel & places", "transport ground",
            "people & body", "light skin tone", "flags", "food & drink"));

    @Test
    void theNamesAreTheLeadingTagsBeforeTheFirstCommonOne() {
        assertEquals(List.of("automobile", "car", "red car"),
                EMOJI.names("automobile, car, red car, travel & places, transport ground"));
        assertEquals(List.of("man cook"), EMOJI.names("man cook, light skin tone, male cook, people & body, person role"));
        // a caption that starts with a common tag keeps its first tag
        assertEquals(List.of("flags"), EMOJI.names("Flags, something"));
        assertEquals(List.of("red apple", "apple"), EMOJI.names(" Red Apple , apple,, food & drink"));
    }

    @Test
    void aShareOfTheCaptionsBecomesOneNameEachNameAsOftenAsTheOthers() {
        String caption = "automobile, car, red car, travel & places, transport ground";
        Map<String, Integer> seen = new HashMap<>();
        int n = 30_000;
        for (int i = 0; i < n; i++) {
            seen.merge(EMOJI.apply(caption, new SplittableRandom(i), TagDropout.NONE), 1, Integer::sum);
        }
        assertEquals(Set.of(caption, "automobile", "car", "red car"), seen.keySet());
        assertEquals(0.5, seen.get(caption) / (double) n, 0.02);
        for (String name : List.of("automobile", "car", "red car")) {
            assertEquals(0.5 / 3, seen.get(name) / (double) n, 0.015, name);
        }
    }

    @Test
    void withoutAShareTheCaptionGoesStraightToTagDropoutWithTheSameCoins() {
        TagDropout dropout = new TagDropout(1, 0.5);
        String caption = "red apple, apple, food & drink, food fruit";
        for (int i = 0; i < 50; i++) {
            assertEquals(dropout.apply(caption, new SplittableRandom(i)),
                    NamePrompts.NONE.apply(caption, new SplittableRandom(i), dropout));
        }
        assertThrows(BadRequestException.class, () -> new NamePrompts(1.5, Set.of()));
    }

    @Test
    void commonTagsAreCountedOverTheDataset(@TempDir Path tmp) throws Exception {
        Dataset data = Dataset.open(SyntheticEmoji.write(tmp), DatasetOptions.of(64));
        NamePrompts names = NamePrompts.of(1, data);
        // every disc caption carries "apple, food & drink, food fruit"; each names its own "red apple i"
        assertTrue(names.common().containsAll(Set.of("apple", "food & drink", "food fruit", "flags")), names.toString());
        assertEquals(List.of("red apple 3"), names.names("red apple 3, apple, food & drink, food fruit"));
        assertEquals("red apple 3", names.apply("red apple 3, apple, food & drink, food fruit", new SplittableRandom(0),
                TagDropout.NONE));
        assertEquals(NamePrompts.NONE, NamePrompts.of(0, data));
    }
}
