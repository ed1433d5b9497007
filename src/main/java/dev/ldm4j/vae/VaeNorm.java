package dev.ldm4j.vae;

import dev.ldm4j.nn.GroupNorm;
import dev.ldm4j.nn.Weights;

/** The one normalisation of the KL autoencoder: 32 groups, eps 1e-6 (not torch's default 1e-5). */
final class VaeNorm {
    static final int GROUPS = 32;
    static final double EPS = 1e-6;

    private VaeNorm() {}

    static GroupNorm of(Weights w, long channels) {
        return new GroupNorm(w, GROUPS, channels, EPS);
    }
}
