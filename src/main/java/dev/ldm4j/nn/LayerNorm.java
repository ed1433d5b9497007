package dev.ldm4j.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** LayerNorm over the last dimension with affine {@code weight}/{@code bias [dim]}. */
public final class LayerNorm {
    private final long[] shape;
    private final double eps;
    private final TensorOptional weight;
    private final TensorOptional bias;

    public LayerNorm(Weights w, long dim, double eps) {
        this.shape = new long[] {dim};
        this.eps = eps;
        this.weight = Tensors.retain(new TensorOptional(w.get("weight", dim)));
        this.bias = Tensors.retain(new TensorOptional(w.get("bias", dim)));
    }

    public Tensor forward(Tensor x) {
        return torch.layer_norm(x, shape, weight, bias, eps, true);
    }
}
