package dev.ldm4j.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** y = x W^T + b, weights {@code weight [out, in]} and optional {@code bias [out]}. */
public final class Linear {
    private final Tensor weight;
    private final Tensor bias;

    public Linear(Weights w, long in, long out, boolean bias) {
        this.weight = w.get("weight", out, in);
        this.bias = bias ? w.get("bias", out) : null;
    }

    public Linear(Weights w, long in, long out) {
        this(w, in, out, true);
    }

    public Tensor forward(Tensor x) {
        return bias == null ? torch.linear(x, weight) : torch.linear(x, weight, new TensorOptional(bias));
    }

    public Tensor weight() {
        return weight;
    }
}
