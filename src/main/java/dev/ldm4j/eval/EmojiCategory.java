package dev.ldm4j.eval;

import dev.ldm4j.data.TagBalance;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

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

    private static final List<String> LABELS = Arrays.stream(values()).map(EmojiCategory::label).toList();
    private static final Map<String, EmojiCategory> BY_LABEL = Arrays.stream(values())
            .collect(Collectors.toUnmodifiableMap(EmojiCategory::label, c -> c));

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
        return TagBalance.lastTag(caption, LABELS).map(BY_LABEL::get);
    }
}
