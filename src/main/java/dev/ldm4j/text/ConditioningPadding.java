package dev.ldm4j.text;

import dev.ldm4j.nn.Tensors;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * How AUTOMATIC1111 reconciles conditionings {@code [B, M, D]} of different token lengths M (prompts of different
 * chunk counts).
 *
 * <p>Prompt and negative prompt: by default AUTOMATIC1111 does not pad at all; when their lengths differ it runs
 * the model once with the conditional and once with the unconditional context instead of one doubled batch (the
 * UNet's cross-attention takes any M). Its option "Pad prompt/negative prompt" ({@code pad_cond_uncond}) is
 * {@link #padWithEmptyPrompt}; the older "(v0)" option ({@code pad_cond_uncond_v0}, which wins when both are set)
 * is {@link #padUncondV0}. Both change the images compared to the separate calls.
 *
 * <p>Several prompts in one batch: {@link #stack}.
 */
public final class ConditioningPadding {
    private ConditioningPadding() {}

    /** A conditional and an unconditional context. */
    public record CondUncond(Tensor cond, Tensor uncond) {}

    /**
     * {@code pad_cond_uncond}: the shorter of the two is extended by whole copies of the empty prompt's conditioning
     * {@code empty [1, 77, D]} (the encoding of "" by the same encoder), as many as the difference in length holds.
     */
    public static CondUncond padWithEmptyPrompt(Tensor cond, Tensor uncond, Tensor empty) {
        if (empty.dim() != 3 || empty.size(0) != 1) {
            throw new IllegalArgumentException("the empty-prompt conditioning must be [1, M, D], got "
                    + Tensors.shapeString(empty));
        }
        long repeats = Math.floorDiv(cond.size(1) - uncond.size(1), empty.size(1));
        if (repeats < 0) {
            return new CondUncond(appendEmpty(cond, empty, -repeats), uncond);
        }
        if (repeats > 0) {
            return new CondUncond(cond, appendEmpty(uncond, empty, repeats));
        }
        return new CondUncond(cond, uncond);
    }

    /**
     * {@code pad_cond_uncond_v0}: only the unconditional context changes; a shorter one is extended by repeating
     * its last vector, a longer one is cut to the conditional length.
     */
    public static CondUncond padUncondV0(Tensor cond, Tensor uncond) {
        long m = cond.size(1);
        long u = uncond.size(1);
        if (u < m) {
            return new CondUncond(cond, repeatLast(uncond, m));
        }
        if (u > m) {
            return new CondUncond(cond, uncond.narrow(1, 0, m));
        }
        return new CondUncond(cond, uncond);
    }

    /**
     * Conditionings {@code [b_i, M_i, D]} joined into one batch {@code [sum b_i, max M_i, D]}; each shorter one is
     * extended by repeating its last vector (AUTOMATIC1111's {@code stack_conds}).
     */
    public static Tensor stack(List<Tensor> conds) {
        if (conds.isEmpty()) {
            throw new IllegalArgumentException("no conditionings");
        }
        long m = 0;
        for (Tensor c : conds) {
            if (c.dim() != 3) {
                throw new IllegalArgumentException("a conditioning must be [B, M, D], got " + Tensors.shapeString(c));
            }
            m = Math.max(m, c.size(1));
        }
        if (conds.size() == 1) {
            return conds.get(0);
        }
        List<Tensor> padded = new ArrayList<>(conds.size());
        for (Tensor c : conds) {
            padded.add(repeatLast(c, m));
        }
        return torch.cat(new TensorVector(padded.toArray(new Tensor[0])), 0);
    }

    private static Tensor appendEmpty(Tensor t, Tensor empty, long repeats) {
        Tensor pad = empty.to(t).repeat(t.size(0), repeats, 1);
        return torch.cat(new TensorVector(t, pad), 1);
    }

    /** {@code t [B, M, D]} extended to length {@code m} with copies of its last vector. */
    private static Tensor repeatLast(Tensor t, long m) {
        long have = t.size(1);
        if (have >= m) {
            return t;
        }
        Tensor last = t.narrow(1, have - 1, 1).repeat(1, m - have, 1);
        return torch.cat(new TensorVector(t, last), 1);
    }
}
