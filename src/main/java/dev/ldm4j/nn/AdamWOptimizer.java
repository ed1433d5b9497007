package dev.ldm4j.nn;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * AdamW (Loshchilov and Hutter, decoupled weight decay) over named float32 tensors, written out here rather
 * than taken from libtorch's {@code torch::optim::AdamW} so that its moments are plain named tensors that a
 * training state file can hold and restore exactly. The update is that of PyTorch's single-tensor AdamW:
 * <pre>
 *   p   *= 1 - lr * wd
 *   m    = lerp(m, g, 1 - b1)           v = b2 v + (1 - b2) g^2
 *   p   -= lr / (1 - b1^k) * m / (sqrt(v) / sqrt(1 - b2^k) + eps)
 * </pre>
 * Tensors without a gradient are left alone.
 */
public final class AdamWOptimizer {
    /** The constant hyper-parameters (the learning rate is given per step). */
    public record Settings(double beta1, double beta2, double eps, double weightDecay) {}

    private final Map<String, Tensor> params;
    private final Settings settings;
    private final Map<String, Tensor> expAvg = new LinkedHashMap<>();
    private final Map<String, Tensor> expAvgSq = new LinkedHashMap<>();
    private long steps;

    public AdamWOptimizer(Map<String, Tensor> params, Settings settings) {
        this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
        this.settings = settings;
        try (NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : this.params.entrySet()) {
                expAvg.put(e.getKey(), Tensors.retain(torch.zeros_like(e.getValue())));
                expAvgSq.put(e.getKey(), Tensors.retain(torch.zeros_like(e.getValue())));
            }
        }
    }

    public Settings settings() {
        return settings;
    }

    /** Updates taken so far (k of the bias corrections is this plus one during the next step). */
    public long steps() {
        return steps;
    }

    /** One update with learning rate {@code lr}, from the gradients the tensors hold now. */
    public void step(double lr) {
        steps++;
        double b1 = settings.beta1();
        double b2 = settings.beta2();
        double bias1 = 1 - Math.pow(b1, steps);
        double sqrtBias2 = Math.sqrt(1 - Math.pow(b2, steps));
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Scalar decay = new Scalar(1 - lr * settings.weightDecay());
            Scalar oneMinusB1 = new Scalar(1 - b1);
            Scalar b2s = new Scalar(b2);
            Scalar oneMinusB2 = new Scalar(1 - b2);
            Scalar invSqrtBias2 = new Scalar(1 / sqrtBias2);
            Scalar eps = new Scalar(settings.eps());
            Scalar stepSize = new Scalar(-lr / bias1);
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                Tensor p = e.getValue();
                Tensor grad = p.grad();
                if (!grad.defined()) {
                    continue;
                }
                Tensor m = expAvg.get(e.getKey());
                Tensor v = expAvgSq.get(e.getKey());
                if (settings.weightDecay() != 0) {
                    p.mul_(decay);
                }
                m.lerp_(grad, oneMinusB1);
                v.mul_(b2s).addcmul_(grad, grad, oneMinusB2);
                Tensor denom = v.sqrt().mul_(invSqrtBias2).add_(eps);
                p.addcdiv_(m, denom, stepSize);
            }
        }
    }

    /** First moments by parameter name (live tensors: copy what must not change). */
    public Map<String, Tensor> expAvg() {
        return Collections.unmodifiableMap(expAvg);
    }

    /** Second moments by parameter name (live tensors). */
    public Map<String, Tensor> expAvgSq() {
        return Collections.unmodifiableMap(expAvgSq);
    }

    /** Puts back a saved state: the step count and both moments of every parameter. */
    public void restore(long steps, Map<String, Tensor> m, Map<String, Tensor> v) {
        try (NoGradGuard g = new NoGradGuard()) {
            for (String k : params.keySet()) {
                copyInto(expAvg.get(k), m.get(k), "exp_avg of " + k);
                copyInto(expAvgSq.get(k), v.get(k), "exp_avg_sq of " + k);
            }
        }
        this.steps = steps;
    }

    /**
     * Copies a tensor of a saved training state into the live one (a moment here, the EMA's average in
     * training), refusing a missing or mis-shaped one with a message naming {@code what}.
     */
    public static void copyInto(Tensor dst, Tensor src, String what) {
        if (src == null) {
            throw new IllegalArgumentException("training state has no " + what);
        }
        if (!java.util.Arrays.equals(Tensors.shape(dst), Tensors.shape(src))) {
            throw new IllegalArgumentException("training state: " + what + " has shape " + Tensors.shapeString(src)
                    + ", expected " + Tensors.shapeString(dst));
        }
        dst.copy_(src);
    }
}
