package dev.ldm4j.vae;

/**
 * Which member of the TAESD family a weights file holds.
 *
 * @param latentChannels 4 for SD 1.x / 2.x / XL, 16 for SD3 / FLUX.1, 32 for FLUX.2
 * @param midblockGn     whether the three lowest-resolution blocks carry the GroupNorm "pool" branch
 */
public record TaesdVariant(int latentChannels, boolean midblockGn) {
    /** The original TAESD for the SD 1.x / 2.x latent space. */
    public static final TaesdVariant SD = new TaesdVariant(4, false);

    public TaesdVariant {
        if (latentChannels <= 0) {
            throw new IllegalArgumentException("TAESD latent channels must be positive, got " + latentChannels);
        }
    }
}
