package dev.ldm4j.text;

import java.util.Locale;

/** Which resblock output an OpenCLIP text encoder hands on (before {@code ln_final}). */
public enum OpenClipLayer {
    /** All resblocks. */
    LAST(0),
    /** All resblocks but the last: SD 2.x conditioning. */
    PENULTIMATE(1);

    private final int skipped;

    OpenClipLayer(int skipped) {
        this.skipped = skipped;
    }

    /** Resblocks left out at the end. */
    public int skipped() {
        return skipped;
    }

    /** Parses the {@code layer} parameter of an LDM YAML's FrozenOpenCLIPEmbedder: "last" or "penultimate". */
    public static OpenClipLayer parse(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "last" -> LAST;
            case "penultimate" -> PENULTIMATE;
            default -> throw new IllegalArgumentException("unsupported OpenCLIP layer '" + name
                    + "' (supported: last, penultimate)");
        };
    }
}
