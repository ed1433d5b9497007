package dev.ldm4j.data;

import dev.ldm4j.io.BadRequestException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Square-root resampling of a data set whose captions carry one of a few group tags (comma-separated tag
 * captions, the kohya/A1111 convention; the emoji captions end with their category). Each example of a group
 * of n examples is repeated round(sqrt(n_max / n)) times per epoch, at most {@value #MAX_REPEATS}, where
 * n_max is the largest group: a group's share of the updates then grows like sqrt(n) instead of n, so rare
 * groups are seen more often without the largest one losing most of its updates (as with full balancing).
 * Examples that carry none of the tags are seen once per epoch.
 *
 * @param tags the group tags, compared without regard to case
 */
public record TagBalance(List<String> tags) {
    /** Cap for tiny groups, so that a handful of images is not memorised. */
    public static final int MAX_REPEATS = 8;

    public TagBalance {
        tags = tags.stream().map(t -> t.strip().toLowerCase(Locale.ROOT)).filter(t -> !t.isEmpty()).distinct()
                .toList();
        if (tags.isEmpty()) {
            throw new BadRequestException("no group tags given");
        }
    }

    /**
     * The group tag of a caption: its last comma-separated part that is one of the tags (the last, because in
     * "name, short names, category, subcategory" captions a name may also spell a tag).
     */
    public Optional<String> groupOf(String caption) {
        return lastTag(caption, tags);
    }

    /** The last comma-separated part of {@code caption} that equals (ignoring case) one of {@code labels}. */
    public static Optional<String> lastTag(String caption, List<String> labels) {
        String[] parts = caption.toLowerCase(Locale.ROOT).split(",");
        for (int i = parts.length - 1; i >= 0; i--) {
            String p = parts[i].strip();
            for (String label : labels) {
                if (label.equalsIgnoreCase(p)) {
                    return Optional.of(label);
                }
            }
        }
        return Optional.empty();
    }

    /** How often each example of {@code dataset} is visited per epoch. */
    public int[] repeats(Dataset dataset) {
        Map<String, Integer> counts = counts(dataset);
        int largest = counts.values().stream().mapToInt(Integer::intValue).max().orElse(1);
        int[] r = new int[dataset.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = groupOf(dataset.caption(i)).map(g -> repeatsOf(largest, counts.get(g))).orElse(1);
        }
        return r;
    }

    /** Examples per group tag, in the order of {@link #tags()} (tags no caption carries are left out). */
    public Map<String, Integer> counts(Dataset dataset) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String t : tags) {
            counts.put(t, 0);
        }
        for (int i = 0; i < dataset.size(); i++) {
            groupOf(dataset.caption(i)).ifPresent(g -> counts.merge(g, 1, Integer::sum));
        }
        counts.values().removeIf(n -> n == 0);
        return counts;
    }

    /** One line per group: "tag n x r", for the log. */
    public List<String> describe(Dataset dataset) {
        Map<String, Integer> counts = counts(dataset);
        int largest = counts.values().stream().mapToInt(Integer::intValue).max().orElse(1);
        List<String> lines = new ArrayList<>();
        counts.forEach((tag, n) -> lines.add(tag + " " + n + " x" + repeatsOf(largest, n)));
        return lines;
    }

    static int repeatsOf(int largest, int n) {
        return (int) Math.min(MAX_REPEATS, Math.max(1, Math.round(Math.sqrt((double) largest / n))));
    }
}
