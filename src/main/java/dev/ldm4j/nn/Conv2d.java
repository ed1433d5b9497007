package dev.ldm4j.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;

/**
 * 2-D convolution, weights {@code weight [out, in, k, k]} and optional {@code bias [out]}, through the kernel
 * {@link Kernels} has checked on this machine.
 */
public final class Conv2d {
    private final Tensor weight;
    private final TensorOptional bias;
    private final long stride;
    private final long padding;

    public Conv2d(Weights w, long in, long out, int kernel, int stride, int padding, boolean bias) {
        this.weight = w.get("weight", out, in, kernel, kernel);
        this.bias = bias ? Tensors.retain(new TensorOptional(w.get("bias", out))) : Tensors.retain(new TensorOptional());
        this.stride = stride;
        this.padding = padding;
    }

    /** Bias on, stride 1, "same" padding for an odd kernel. */
    public Conv2d(Weights w, long in, long out, int kernel) {
        this(w, in, out, kernel, 1, kernel / 2, true);
    }

    public Tensor forward(Tensor x) {
        return Kernels.conv2d(x, weight, bias, stride, padding);
    }
}
