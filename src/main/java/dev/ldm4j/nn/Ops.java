package dev.ldm4j.nn;

import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Stateless functions the model blocks share. */
public final class Ops {
    private Ops() {}

    public static Scalar s(double v) {
        return new Scalar(v);
    }

    public static Tensor silu(Tensor x) {
        return torch.silu(x);
    }

    /**
     * SiLU of a tensor that nothing else refers to (a norm's fresh output): computed in place when no
     * gradient is being recorded, which saves one activation-sized buffer per block at inference; out of
     * place under autograd, whose SiLU backward needs the input.
     */
    public static Tensor siluOfFresh(Tensor fresh) {
        return org.bytedeco.pytorch.GradMode.is_enabled() ? torch.silu(fresh) : torch.silu_(fresh);
    }

    /** Exact (erf) GELU. */
    public static Tensor gelu(Tensor x) {
        return torch.gelu(x);
    }

    /** CLIP's x * sigmoid(1.702 x). */
    public static Tensor quickGelu(Tensor x) {
        return x.mul(torch.sigmoid(x.mul(s(1.702))));
    }

    /**
     * Multi-head attention on token-major tensors: q [B, N, H*d], k and v [B, M, H*d] -> [B, N, H*d], with
     * the default scale d^-0.5, through libtorch's fused scaled_dot_product_attention.
     */
    public static Tensor attention(Tensor q, Tensor k, Tensor v, long heads, boolean causal) {
        long b = q.size(0);
        long n = q.size(1);
        long c = q.size(2);
        long d = c / heads;
        Tensor qh = q.view(b, n, heads, d).transpose(1, 2);
        Tensor kh = k.view(b, k.size(1), heads, d).transpose(1, 2);
        Tensor vh = v.view(b, v.size(1), heads, d).transpose(1, 2);
        ScalarType dtype = Tensors.scalarType(q);
        if (q.is_cpu() && !GradMode.is_enabled() && !CpuFeatures.fastHalfFlashAttention(dtype)) {
            // the float32 flash kernel is 20-40x faster here than the half-precision one, and its memory
            // stays bounded (math attention would build the [N, M] matrix)
            Tensor qf = qh.to(ScalarType.Float);
            Tensor kf = kh.to(ScalarType.Float);
            Tensor vf = vh.to(ScalarType.Float);
            Tensor o = Kernels.attention(qf, kf, vf, causal, () -> sdpa(qf, kf, vf, causal));
            return o.transpose(1, 2).reshape(b, n, c).to(dtype);
        }
        return Kernels.attention(qh, kh, vh, causal, () -> sdpa(qh, kh, vh, causal)).transpose(1, 2).reshape(b, n, c);
    }

    private static Tensor sdpa(Tensor q, Tensor k, Tensor v, boolean causal) {
        return torch.scaled_dot_product_attention(q, k, v, new TensorOptional(), 0.0, causal, new DoubleOptional(),
                false);
    }

    public static Tensor upsampleNearest2x(Tensor x) {
        return torch.upsample_nearest2d(x, new long[] {x.size(2) * 2, x.size(3) * 2});
    }

    public static Tensor cat(long dim, Tensor... parts) {
        return torch.cat(new org.bytedeco.pytorch.TensorVector(parts), dim);
    }

    /**
     * {@code x} in channels-last layout when no gradient is recorded, else {@code x} itself. oneDNN's
     * convolutions run 10-35% faster on channels-last input at the VAE's large sizes (128-256 channels at
     * 256-512 px; docs/benchmarks.md); training keeps the reference layout so its numbers stay put.
     */
    public static Tensor channelsLastForInference(Tensor x) {
        return GradMode.is_enabled() || x.dim() != 4
                ? x : x.contiguous(torch.MemoryFormat.ChannelsLast);
    }
}
