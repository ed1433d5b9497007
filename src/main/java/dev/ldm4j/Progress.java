package dev.ldm4j;

/** Hears each finished sampler step of a {@link StableDiffusion#generate} call. */
@FunctionalInterface
public interface Progress {
    /** Called after step {@code done} of {@code total} (1-based), on the generating thread. */
    void step(int done, int total);
}
