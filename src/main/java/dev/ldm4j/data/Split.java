package dev.ldm4j.data;

/**
 * A dataset cut into a training part and a held-out evaluation part (see {@link HeldOut} for the rule).
 * Both are views of the same dataset: they share its cached images.
 */
public record Split(Dataset train, Dataset heldOut) {}
