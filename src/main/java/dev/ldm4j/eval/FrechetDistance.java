package dev.ldm4j.eval;

import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The Fréchet distance between Gaussians fitted to two sets of feature vectors (the statistic of FID, on
 * whatever features are given): |mu1 - mu2|² + tr(S1) + tr(S2) - 2 tr((S1^½ S2 S1^½)^½), with unbiased
 * covariances, in float64. The trace of the matrix square root is taken from the eigenvalues of the
 * symmetric S1^½ S2 S1^½, which has the same trace of square root as (S1 S2)^½ and, unlike S1 S2, can be
 * handed to a symmetric eigensolver; round-off negatives are clamped to 0.
 */
public final class FrechetDistance {
    private FrechetDistance() {}

    /** The distance between feature sets a [N, D] and b [M, D] (N, M >= 2). */
    public static double between(Tensor a, Tensor b) {
        if (a.dim() != 2 || b.dim() != 2 || a.size(1) != b.size(1)) {
            throw new IllegalArgumentException("feature sets must be [N, D] and [M, D] with the same D, got "
                    + Tensors.shapeString(a) + " and " + Tensors.shapeString(b));
        }
        if (a.size(0) < 2 || b.size(0) < 2) {
            throw new IllegalArgumentException("each feature set needs at least two vectors");
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor x = a.to(ScalarType.Double);
            Tensor y = b.to(ScalarType.Double);
            Tensor mu1 = x.mean(new long[] {0}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
            Tensor mu2 = y.mean(new long[] {0}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
            Tensor s1 = covariance(x, mu1);
            Tensor s2 = covariance(y, mu2);
            Tensor root1 = symmetricSqrt(s1);
            Tensor m = root1.matmul(s2).matmul(root1);
            m = m.add(m.transpose(0, 1)).mul(Ops.s(0.5));
            Tensor eig = torch.linalg_eigh(m).get0();
            double traceSqrt = eig.clamp_min(Ops.s(0)).sqrt().sum().item_double();
            double meanTerm = mu1.sub(mu2).pow(Ops.s(2)).sum().item_double();
            return meanTerm + s1.trace().item_double() + s2.trace().item_double() - 2 * traceSqrt;
        }
    }

    private static Tensor covariance(Tensor x, Tensor mean) {
        Tensor c = x.sub(mean);
        return c.transpose(0, 1).matmul(c).div(Ops.s(x.size(0) - 1));
    }

    private static Tensor symmetricSqrt(Tensor s) {
        var vl = torch.linalg_eigh(s);
        Tensor values = vl.get0().clamp_min(Ops.s(0)).sqrt();
        Tensor vectors = vl.get1();
        return vectors.mul(values.unsqueeze(0)).matmul(vectors.transpose(0, 1));
    }

}
