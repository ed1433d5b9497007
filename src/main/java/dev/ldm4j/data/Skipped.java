package dev.ldm4j.data;

/** A file (or metadata line) left out of a dataset, and why; each one is also logged as a warning. */
public record Skipped(String name, String reason) {
    @Override
    public String toString() {
        return name + ": " + reason;
    }
}
