package dev.ldm4j.model;

/** The model families ldm4j knows, by the layout of their single-file checkpoints. */
public enum ModelFamily {
    SD1("SD 1.x"),
    SD2("SD 2.x");

    private final String label;

    ModelFamily(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
