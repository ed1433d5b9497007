package dev.ldm4j.vae;

import dev.ldm4j.nn.ParameterSource;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Tensor;

/**
 * A {@link ParameterSource} seen through a key translation, so that one model class can read a file that
 * stores the same weights under another layout (diffusers' AutoencoderTiny numbers the decoder's
 * Sequential one lower because it applies the clamp outside it). {@link #taken()} reports file keys.
 */
final class KeyMappedSource implements ParameterSource {
    private final ParameterSource inner;
    private final UnaryOperator<String> toFileKey;

    KeyMappedSource(ParameterSource inner, UnaryOperator<String> toFileKey) {
        this.inner = inner;
        this.toFileKey = toFileKey;
    }

    @Override
    public boolean has(String key) {
        return inner.has(toFileKey.apply(key));
    }

    @Override
    public Tensor get(String key, long[] shape) {
        return inner.get(toFileKey.apply(key), shape);
    }

    @Override
    public Map<String, Tensor> taken() {
        return inner.taken();
    }
}
