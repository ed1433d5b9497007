package dev.ldm4j.data;

import dev.ldm4j.io.BadRequestException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Caption tag dropout (kohya sd-scripts' {@code keep_tokens} + {@code caption_tag_dropout_rate}): the first
 * {@code keep} comma-separated tags of a caption always stay, each later one is left out with probability
 * {@code rate}. A model trained only on long tag captions ("red apple, apple, food & drink, food fruit") meets
 * a short prompt ("red apple") as a caption it never saw; with dropout it sees the short forms too.
 *
 * @param keep leading tags that are never dropped (0 = any tag may go; an all-dropped caption keeps its first)
 * @param rate probability of leaving out each other tag, in [0, 1]
 */
public record TagDropout(int keep, double rate) {
    public static final TagDropout NONE = new TagDropout(0, 0);

    public TagDropout {
        if (keep < 0 || !(rate >= 0 && rate <= 1)) {
            throw new BadRequestException("tag dropout needs keep >= 0 and a rate in [0, 1], got keep " + keep
                    + ", rate " + rate);
        }
    }

    /** The caption with tags dropped by the coin flips of {@code random}; unchanged when the rate is 0. */
    public String apply(String caption, SplittableRandom random) {
        if (rate == 0) {
            return caption;
        }
        String[] tags = caption.split(",");
        List<String> kept = new ArrayList<>();
        for (int i = 0; i < tags.length; i++) {
            String t = tags[i].strip();
            if (!t.isEmpty() && (i < keep || random.nextDouble() >= rate)) {
                kept.add(t);
            }
        }
        if (kept.isEmpty()) {
            return tags[0].strip();
        }
        return String.join(", ", kept);
    }
}
