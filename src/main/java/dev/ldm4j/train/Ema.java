package dev.ldm4j.train;

import dev.ldm4j.nn.AdamWOptimizer;
import dev.ldm4j.nn.Tensors;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * An exponential moving average of named tensors: after the n-th update,
 * {@code shadow = d_n * shadow + (1 - d_n) * param}, with {@code d_n = decay}, or with warmup
 * {@code d_n = min(decay, (1 + n) / (10 + n))} (CompVis LitEma's schedule). The shadow starts as a copy of
 * the parameters. These are the weights a training run exports.
 */
public final class Ema {
    private final Map<String, Tensor> params;
    private final Map<String, Tensor> shadow = new LinkedHashMap<>();
    private final double decay;
    private final boolean warmup;
    private long updates;

    public Ema(Map<String, Tensor> params, double decay, boolean warmup) {
        if (!(decay >= 0 && decay < 1)) {
            throw new IllegalArgumentException("EMA decay must be in [0, 1), got " + decay);
        }
        this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
        this.decay = decay;
        this.warmup = warmup;
        try (NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : this.params.entrySet()) {
                shadow.put(e.getKey(), Tensors.retain(e.getValue().detach().clone()));
            }
        }
    }

    /** The decay used by update number {@code n} (1-based). */
    public double decayAt(long n) {
        return warmup ? Math.min(decay, (1.0 + n) / (10.0 + n)) : decay;
    }

    public long updates() {
        return updates;
    }

    /** Moves the shadow a step towards the current parameters. */
    public void update() {
        updates++;
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Scalar weight = new Scalar(1 - decayAt(updates));
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                // shadow + (1 - d) (param - shadow)
                shadow.get(e.getKey()).lerp_(e.getValue(), weight);
            }
        }
    }

    /** The averaged tensors by name (live: copy what must not change). */
    public Map<String, Tensor> shadow() {
        return Collections.unmodifiableMap(shadow);
    }

    void restore(long updates, Map<String, Tensor> saved) {
        try (NoGradGuard g = new NoGradGuard()) {
            for (String k : params.keySet()) {
                AdamWOptimizer.copyInto(shadow.get(k), saved.get(k), "EMA of " + k);
            }
        }
        this.updates = updates;
    }
}
