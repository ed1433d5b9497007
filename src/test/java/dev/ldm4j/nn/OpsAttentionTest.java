package dev.ldm4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link Ops#attention} at inference against softmax(q k^T / sqrt(d)) v written out in float64 on the same
 * inputs, in float32 and in bf16 (which, without AMX, runs through the float32 flash kernel): self-attention
 * at the SD 1.5 64x64 level (4096 tokens), unequal query and key counts, cross-attention to 77 tokens.
 */
@org.junit.jupiter.api.Tag("golden")
class OpsAttentionTest {
    @ParameterizedTest
    @CsvSource({"4096, 4096, 2, 40", "1000, 2000, 3, 16", "1024, 77, 4, 32"})
    void matchesTheFloat64Formula(int n, int m, int heads, int d) {
        Torch.load();
        try (PointerScope scope = new PointerScope(); InferenceMode guard = new InferenceMode()) {
            torch.manual_seed(7);
            // rounded to bf16 first: both sides see the same inputs, the error is the kernel's own
            Tensor q = torch.randn(1, n, heads * d).mul(Ops.s(1.5)).to(ScalarType.BFloat16);
            Tensor k = torch.randn(1, m, heads * d).mul(Ops.s(1.5)).to(ScalarType.BFloat16);
            Tensor v = torch.randn(1, m, heads * d).to(ScalarType.BFloat16);
            Tensor expected = reference(q, k, v, heads);
            long[] shape = {1, n, (long) heads * d};

            Tensor f32 = Ops.attention(q.to(ScalarType.Float), k.to(ScalarType.Float), v.to(ScalarType.Float),
                    heads, false);
            assertArrayEquals(shape, f32.sizes().vec().get());
            assertTrue(maxAbs(f32.to(ScalarType.Double).sub(expected)) < 1e-5, "float32");

            Tensor bf16 = Ops.attention(q, k, v, heads, false);
            assertArrayEquals(shape, bf16.sizes().vec().get());
            assertTrue(Tensors.scalarType(bf16) == ScalarType.BFloat16, "bf16 in, bf16 out");
            // a kernel that keeps the scores in float32 rounds only its output to bf16 (relative 2^-9 of a
            // convex combination of v); a bf16 score matrix would add |score| * 2^-9 to each logit: measured
            // 0.009 max |v| for the peaked cross-attention case (0.002 here), which this bound of 2^-8 refuses
            double tolerance = Math.pow(2, -8) * maxAbs(v.to(ScalarType.Double));
            double err = maxAbs(bf16.to(ScalarType.Double).sub(expected));
            assertTrue(err < tolerance, "bf16 error " + err + " vs tolerance " + tolerance);
        }
    }

    private static Tensor reference(Tensor q, Tensor k, Tensor v, int heads) {
        long n = q.size(1);
        long m = k.size(1);
        long d = q.size(2) / heads;
        Tensor qh = q.to(ScalarType.Double).view(n, heads, d).transpose(0, 1);
        Tensor kh = k.to(ScalarType.Double).view(m, heads, d).transpose(0, 1);
        Tensor vh = v.to(ScalarType.Double).view(m, heads, d).transpose(0, 1);
        Tensor p = torch.bmm(qh, kh.transpose(1, 2)).div(Ops.s(Math.sqrt(d))).softmax(-1);
        return torch.bmm(p, vh).transpose(0, 1).reshape(1, n, heads * d);
    }

    private static double maxAbs(Tensor t) {
        return t.abs().max().item_double();
    }
}
