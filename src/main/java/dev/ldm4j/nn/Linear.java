package dev.ldm4j.nn;

import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * y = x W^T + b, weights {@code weight [out, in]} and optional {@code bias [out]}.
 *
 * <p>At inference a float32 product runs as oneDNN's 1x1 convolution on a channels-last view of the rows
 * (no copy in or out): libtorch hands a float32 {@code linear} to OpenBLAS, which must run on one thread
 * beside libtorch's OpenMP pool (two pools on the same cores slow a UNet step 2x), so the other core idles;
 * oneDNN runs on the OpenMP pool itself. Measured on 2 Zen 4 cores: 1.2-2.2x the GFLOP/s of the BLAS path for
 * the UNet's shapes (docs/benchmarks.md). Training (grad mode on, perhaps under autocast, which only
 * knows {@code linear}) keeps the plain op. Either way the product goes through {@link Kernels}, which checks
 * it on this machine and drops the oneDNN route where it is wrong.
 */
public final class Linear {
    /** Below this many rows oneDNN's per-call overhead outweighs the second core. */
    private static final long ONEDNN_MIN_ROWS = 32;
    private static final long[] ZERO = {0, 0};
    private static final long[] ONE = {1, 1};

    private final Tensor weight;
    private final Tensor bias;
    private final Tensor weight1x1;

    public Linear(Weights w, long in, long out, boolean bias) {
        this.weight = w.get("weight", out, in);
        this.bias = bias ? w.get("bias", out) : null;
        this.weight1x1 = Tensors.retain(weight.view(out, in, 1, 1));
    }

    public Linear(Weights w, long in, long out) {
        this(w, in, out, true);
    }

    public Tensor forward(Tensor x) {
        return Kernels.linear(x, weight, bias, viaOneDnn(x) ? () -> oneDnn(x) : null);
    }

    private boolean viaOneDnn(Tensor x) {
        return !GradMode.is_enabled() && x.is_cpu() && Tensors.scalarType(x) == ScalarType.Float
                && Tensors.scalarType(weight) == ScalarType.Float && x.numel() / x.size(-1) >= ONEDNN_MIN_ROWS;
    }

    private Tensor oneDnn(Tensor x) {
        TensorOptional b = bias == null ? new TensorOptional() : new TensorOptional(bias);
        long in = weight.size(1);
        long out = weight.size(0);
        long rows = x.numel() / in;
        // [rows, in] row-major is the channels-last layout of an NCHW tensor [1, in, 1, rows]; the public
        // conv2d (not the internal mkldnn op) lets libtorch pick the backend that supports that layout
        Tensor image = x.reshape(1, 1, rows, in).permute(0, 3, 1, 2);
        Tensor y = torch.conv2d(image, weight1x1, b, ONE, ZERO, ONE, 1);
        long[] shape = x.sizes().vec().get();
        shape[shape.length - 1] = out;
        return y.permute(0, 2, 3, 1).reshape(shape);
    }

    public Tensor weight() {
        return weight;
    }
}
