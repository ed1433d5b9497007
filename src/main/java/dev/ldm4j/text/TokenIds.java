package dev.ldm4j.text;

import dev.ldm4j.nn.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Validation of the token-id batches the text encoders accept. */
final class TokenIds {
    private TokenIds() {}

    /** {@code ids} as int64 {@code [B, N]}, 1 <= N <= maxLength; other integer types are widened. */
    static Tensor check(Tensor ids, int maxLength) {
        if (ids.dim() != 2 || ids.size(1) < 1 || ids.size(1) > maxLength) {
            throw new IllegalArgumentException("token ids must have shape [batch, n] with 1 <= n <= " + maxLength
                    + ", got " + Tensors.shapeString(ids));
        }
        ScalarType t = Tensors.scalarType(ids);
        if (is(t, ScalarType.Long)) {
            return ids;
        }
        if (is(t, ScalarType.Int) || is(t, ScalarType.Short) || is(t, ScalarType.Byte) || is(t, ScalarType.Char)) {
            return ids.to(ScalarType.Long);
        }
        throw new IllegalArgumentException("token ids must be integers, got " + t);
    }

    /**
     * JavaCPP hands back a fresh enum object (ordinal 0) for a returned ScalarType, so neither == nor a switch
     * works on it; the native value does.
     */
    private static boolean is(ScalarType actual, ScalarType expected) {
        return actual.value == expected.value;
    }
}
