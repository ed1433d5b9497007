package dev.ldm4j.model;

import dev.ldm4j.nn.ParameterSource;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;
import org.bytedeco.pytorch.Tensor;

/**
 * A change to the parameters a model is assembled from, applied while it loads: another layout's key map, a
 * LoRA merged into the weights. A patch wraps the source; the networks never know it is there.
 */
@FunctionalInterface
public interface ParameterPatch {
    /** {@code source} as the networks should see it; {@code taken()} must still list what they took. */
    ParameterSource apply(ParameterSource source, ModelConfig config);

    /**
     * Called when the model's weights have been read through {@link #apply}'s source (and again after any weights
     * read later, such as a VAE encoder loaded on first use): frees what the patch opened to read them, files
     * above all. A patch applied again afterwards opens them again.
     */
    default void release() {}

    /**
     * A patch that passes each parameter through {@code change(key, tensor)} as it is read (a LoRA merge: W +
     * scale * up @ down). A tensor {@code change} makes must be retained by it; the model frees it on close.
     */
    static ParameterPatch mapping(BiFunction<String, Tensor, Tensor> change) {
        return (source, config) -> new ParameterSource() {
            private final Map<String, Tensor> taken = new LinkedHashMap<>();

            @Override
            public boolean has(String key) {
                return source.has(key);
            }

            @Override
            public Tensor get(String key, long[] shape) {
                Tensor t = change.apply(key, source.get(key, shape));
                taken.put(key, t);
                return t;
            }

            @Override
            public Map<String, Tensor> taken() {
                return Collections.unmodifiableMap(taken);
            }
        };
    }
}
