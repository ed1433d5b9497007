package dev.ldm4j.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** GroupNorm with affine {@code weight}/{@code bias [C]}. */
public final class GroupNorm {
    private final long groups;
    private final double eps;
    private final TensorOptional weight;
    private final TensorOptional bias;

    public GroupNorm(Weights w, long groups, long channels, double eps) {
        this.groups = groups;
        this.eps = eps;
        this.weight = Tensors.retain(new TensorOptional(w.get("weight", channels)));
        this.bias = Tensors.retain(new TensorOptional(w.get("bias", channels)));
    }

    public Tensor forward(Tensor x) {
        return torch.group_norm(x, groups, weight, bias, eps, true);
    }
}
