package dev.ldm4j.nn;

import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * Where a model's parameters come from: a checkpoint, or random values for benchmarks and training from
 * scratch. Model classes ask for each parameter by its full checkpoint key and the shape their config
 * implies; the source checks the shape and remembers what was taken.
 */
public interface ParameterSource {
    boolean has(String key);

    /** The parameter under {@code key}, in the source's compute dtype, of exactly {@code shape}. */
    Tensor get(String key, long[] shape);

    /** Every parameter taken so far, by key, in the order taken. */
    Map<String, Tensor> taken();
}
