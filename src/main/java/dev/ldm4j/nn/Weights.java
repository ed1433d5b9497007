package dev.ldm4j.nn;

import org.bytedeco.pytorch.Tensor;

/**
 * A view of a {@link ParameterSource} below a key prefix, so that a block asks for {@code "conv1.weight"}
 * and gets {@code "model.diffusion_model.input_blocks.1.0.conv1.weight"}. Walking {@link #sub} mirrors the
 * checkpoint's module path.
 */
public final class Weights {
    private final ParameterSource source;
    private final String prefix;

    private Weights(ParameterSource source, String prefix) {
        this.source = source;
        this.prefix = prefix;
    }

    public static Weights of(ParameterSource source) {
        return new Weights(source, "");
    }

    public static Weights of(ParameterSource source, String prefix) {
        return new Weights(source, prefix.isEmpty() || prefix.endsWith(".") ? prefix : prefix + ".");
    }

    public Weights sub(String name) {
        return new Weights(source, prefix + name + ".");
    }

    public Weights sub(int index) {
        return sub(Integer.toString(index));
    }

    public String key(String name) {
        return prefix + name;
    }

    public boolean has(String name) {
        return source.has(prefix + name);
    }

    public Tensor get(String name, long... shape) {
        return source.get(prefix + name, shape);
    }

    public ParameterSource source() {
        return source;
    }
}
