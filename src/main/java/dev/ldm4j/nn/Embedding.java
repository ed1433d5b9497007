package dev.ldm4j.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** A lookup table {@code weight [num, dim]} indexed by int64 ids. */
public final class Embedding {
    private final Tensor weight;

    public Embedding(Weights w, long num, long dim) {
        this.weight = w.get("weight", num, dim);
    }

    public Tensor forward(Tensor ids) {
        return torch.embedding(weight, ids);
    }

    public Tensor weight() {
        return weight;
    }
}
