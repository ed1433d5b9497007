package dev.ldm4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class EmojiCategoryTest {
    @Test
    void readsTheCategoryFieldOfDatasetCaptions() {
        // captions as scripts/fetch-emoji-dataset.sh writes them (emoji-datasource 16.0.0)
        assertEquals(Optional.of(EmojiCategory.PEOPLE_AND_BODY),
                EmojiCategory.ofCaption("waving hand, medium skin tone, wave, people & body, hand fingers open"));
        assertEquals(Optional.of(EmojiCategory.SYMBOLS), EmojiCategory.ofCaption("hash key, hash, symbols, keycap"));
        assertEquals(Optional.of(EmojiCategory.FOOD_AND_DRINK),
                EmojiCategory.ofCaption("red apple, apple, food & drink, food fruit"));
        // the subcategory was dropped as a repeat of a short name: the category is the last part
        assertEquals(Optional.of(EmojiCategory.SYMBOLS), EmojiCategory.ofCaption("warning sign, warning, symbols"));
        assertEquals(Optional.of(EmojiCategory.OBJECTS), EmojiCategory.ofCaption("lock, objects"));
        assertEquals(Optional.of(EmojiCategory.FLAGS), EmojiCategory.ofCaption("France Flag, fr, Flags, country flag"));
    }

    @Test
    void componentsAndFreeTextHaveNoCategory() {
        assertEquals(Optional.empty(),
                EmojiCategory.ofCaption("emoji modifier fitzpatrick type-3, skin tone 3, component, skin tone"));
        assertEquals(Optional.empty(), EmojiCategory.ofCaption("a red apple on a table"));
        assertEquals(Optional.empty(), EmojiCategory.ofCaption(""));
    }
}
