package dev.ldm4j.eval;

import java.util.Locale;
import java.util.Optional;

/**
 * The emoji categories of emoji.json that {@code ldm4j eval} scores generated images against, as the
 * dataset's captions spell them ({@code scripts/fetch-emoji-dataset.sh} puts the category before the
 * subcategory). "Component" (five skin-tone swatches and four hair styles) is left out: too few images to
 * learn or to score.
 */
public enum EmojiCategory {
    SMILEYS_AND_EMOTION("smileys & emotion"),
    PEOPLE_AND_BODY("people & body"),
    ANIMALS_AND_NATURE("animals & nature"),
    FOOD_AND_DRINK("food & drink"),
    TRAVEL_AND_PLACES("travel & places"),
    ACTIVITIES("activities"),
    OBJECTS("objects"),
    SYMBOLS("symbols"),
    FLAGS("flags");

    private final String label;

    EmojiCategory(String label) {
        this.label = label;
    }

    /** The category as captions write it, e.g. "food & drink". */
    public String label() {
        return label;
    }

    /**
     * The category a caption names: its last comma-separated part that is a category label. The last one,
     * because a name can look like a category ("symbols" is also a subcategory word) while the category
     * field comes after the names; the subcategory after it is never a category label.
     */
    public static Optional<EmojiCategory> ofCaption(String caption) {
        String[] parts = caption.toLowerCase(Locale.ROOT).split(",");
        for (int i = parts.length - 1; i >= 0; i--) {
            String p = parts[i].trim();
            for (EmojiCategory c : values()) {
                if (c.label.equals(p)) {
                    return Optional.of(c);
                }
            }
        }
        return Optional.empty();
    }
}
