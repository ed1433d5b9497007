package dev.ldm4j.data;

import dev.ldm4j.io.BadRequestException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * Captions turned into what a user types: with probability {@code share}, a tag caption ("automobile, car, red
 * car, travel &amp; places, transport ground") is replaced by one of its name tags alone ("car"). The name tags
 * are the leading tags before the first common one, a tag that more than {@link #COMMON_SHARE} of the captions
 * carry (a category, a skin tone, "flags"): those describe many images, so they are not a name. A caption whose
 * first tag is common keeps its first tag as its only name.
 *
 * <p>Tag dropout alone rarely gives such prompts (with rate 0.3 a four-tag caption is its bare name 2.7% of
 * the time), and never gives a short name without the name before it, so "car" or "pizza" would reach the text
 * encoder in a context it never saw in training.
 *
 * @param share probability of replacing a caption, in [0, 1]
 * @param common the common tags, lower case
 */
public record NamePrompts(double share, Set<String> common) {
    public static final NamePrompts NONE = new NamePrompts(0, Set.of());
    /** A tag carried by more than this share of the captions describes a group, not one image. */
    public static final double COMMON_SHARE = 0.01;

    public NamePrompts {
        if (!(share >= 0 && share <= 1)) {
            throw new BadRequestException("the share of name prompts must be in [0, 1], got " + share);
        }
        common = Set.copyOf(common);
    }

    /** Name prompts for the captions of {@code dataset}, its common tags counted over all its examples. */
    public static NamePrompts of(double share, Dataset dataset) {
        if (share == 0) {
            return NONE;
        }
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < dataset.size(); i++) {
            for (String t : Set.copyOf(tags(dataset.caption(i)))) {
                counts.merge(t, 1, Integer::sum);
            }
        }
        double limit = COMMON_SHARE * dataset.size();
        return new NamePrompts(share, counts.entrySet().stream().filter(e -> e.getValue() > limit)
                .map(Map.Entry::getKey).collect(Collectors.toSet()));
    }

    /** The name tags of a caption (at least its first tag), lower case. */
    public List<String> names(String caption) {
        List<String> all = tags(caption);
        List<String> names = new ArrayList<>();
        for (String t : all) {
            if (common.contains(t)) {
                break;
            }
            names.add(t);
        }
        if (names.isEmpty() && !all.isEmpty()) {
            names.add(all.get(0));
        }
        return names;
    }

    /**
     * With probability {@link #share} (a coin of {@code random}), one of the caption's name tags chosen evenly;
     * otherwise {@code otherwise} applied to the caption with the same {@code random}. Draws nothing when the
     * share is 0, so that runs without name prompts see the captions they always saw.
     */
    public String apply(String caption, SplittableRandom random, TagDropout otherwise) {
        if (share > 0 && random.nextDouble() < share) {
            List<String> names = names(caption);
            if (!names.isEmpty()) {
                return names.get(random.nextInt(names.size()));
            }
        }
        return otherwise.apply(caption, random);
    }

    private static List<String> tags(String caption) {
        List<String> out = new ArrayList<>();
        for (String t : caption.split(",")) {
            String s = t.strip().toLowerCase(Locale.ROOT);
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }
}
