package dev.ldm4j.text;

import dev.ldm4j.nn.Tensors;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * AUTOMATIC1111's conditioning for prompts with attention weights and of any length: the prompt is chunked
 * ({@link PromptChunker}), every chunk is encoded on its own as a 77-token input, each position's vector is
 * multiplied by its weight and the chunk is rescaled so its mean equals the unweighted mean (emphasis "Original"),
 * and the chunks are joined along the token axis: {@code [1, 77 * chunks, D]}. A prompt without brackets that
 * fits 75 tokens gives exactly the ordinary conditioning.
 *
 * <pre>{@code
 * WeightedPromptEncoder prompts = new WeightedPromptEncoder(tokenizer, ClipTokenizer.Style.SD1);
 * Tensor cond = prompts.encode("a (red:1.3) apple BREAK on a table", textEncoder);   // [1, 154, 768]
 * }</pre>
 */
public final class WeightedPromptEncoder {
    private final PromptChunker chunker;

    public WeightedPromptEncoder(ClipTokenizer tokenizer, ClipTokenizer.Style style) {
        this(new PromptChunker(tokenizer, style));
    }

    public WeightedPromptEncoder(PromptChunker chunker) {
        this.chunker = Objects.requireNonNull(chunker, "chunker");
    }

    /** The chunks {@code prompt} is encoded as. */
    public PromptChunks chunks(String prompt) {
        return chunker.chunk(prompt);
    }

    /** The conditioning {@code [1, 77 * chunks, D]} of {@code prompt} from {@code encoder}'s configured layer. */
    public Tensor encode(String prompt, TextEncoder encoder) {
        return encode(chunks(prompt), encoder::encode);
    }

    /**
     * The conditioning {@code [1, 77 * chunks, D]} of {@code prompt}, float32.
     *
     * @param encoder token ids {@code [n, 77]} int64 to context {@code [n, 77, D]}; the place to choose CLIP skip
     */
    public Tensor encode(String prompt, UnaryOperator<Tensor> encoder) {
        return encode(chunks(prompt), encoder);
    }

    /**
     * One conditioning per prompt, stacked to {@code [B, 77 * k, D]}, k the most chunks of any prompt; shorter
     * ones are extended by repeating their last vector, as AUTOMATIC1111 stacks a batch. Repeated prompts are
     * encoded once.
     */
    public Tensor encodeBatch(List<String> prompts, UnaryOperator<Tensor> encoder) {
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("no prompts");
        }
        Map<String, Tensor> done = new HashMap<>();
        List<Tensor> conds = new ArrayList<>(prompts.size());
        for (String p : prompts) {
            conds.add(done.computeIfAbsent(p, q -> encode(q, encoder)));
        }
        return ConditioningPadding.stack(conds);
    }

    /** {@link #encode(String, UnaryOperator)} for chunks made already. */
    public static Tensor encode(PromptChunks chunks, UnaryOperator<Tensor> encoder) {
        int k = chunks.size();
        int n = ClipTokenizer.CONTEXT_LENGTH;
        long[] ids = new long[k * n];
        float[] mult = new float[k * n];
        for (int c = 0; c < k; c++) {
            PromptChunk chunk = chunks.chunks().get(c);
            System.arraycopy(chunk.inputIds(), 0, ids, c * n, n);
            System.arraycopy(chunk.multipliers(), 0, mult, c * n, n);
        }
        // each chunk is its own batch row, so the encoder sees every chunk separately, as the reference does
        Tensor z = encoder.apply(Tensors.fromLongs(ids, k, n));
        if (z.dim() != 3 || z.size(0) != k || z.size(1) != n) {
            throw new IllegalStateException("text encoder returned " + Tensors.shapeString(z) + " for " + k + " x "
                    + n + " token ids");
        }
        return emphasize(z, Tensors.fromFloats(mult, k, n)).reshape(1, (long) k * n, z.size(2));
    }

    /**
     * Emphasis "Original" on each chunk: {@code z [k, 77, D]} times {@code multipliers [k, 77]} per position, then
     * rescaled per chunk by (mean of z) / (mean of the weighted z). Computed in float32, returned float32.
     */
    public static Tensor emphasize(Tensor z, Tensor multipliers) {
        Tensor z32 = z.to(ScalarType.Float);
        Tensor m = multipliers.to(z32).unsqueeze(2);
        long[] chunkDims = {1, 2};
        Tensor originalMean = z32.mean(chunkDims, true, new ScalarTypeOptional());
        Tensor weighted = z32.mul(m);
        Tensor weightedMean = weighted.mean(chunkDims, true, new ScalarTypeOptional());
        // A chunk whose mean is 0 (a text encoder whose final LayerNorm is still the identity, fresh from
        // training from scratch) gives 0 / 0: the rescaling is then left out rather than poisoning the batch
        Tensor ratio = originalMean.div(weightedMean);
        return weighted.mul(torch.where(ratio.isfinite(), ratio, torch.ones_like(ratio)));
    }

    /**
     * The conditioning {@code [1, 77 * chunks, D]} of {@code prompt}, with the layer chosen the way
     * the model's prompt encoder chooses it: {@code clipSkip} 0 is the encoder's configured layer, k >= 1 the
     * k-th layer from the end (1 = the last, 2 = the penultimate).
     */
    public static Tensor encode(TextEncoder encoder, ClipTokenizer tokenizer, ClipTokenizer.Style style,
                                String prompt, int clipSkip) {
        return new WeightedPromptEncoder(tokenizer, style).encode(prompt, layer(encoder, clipSkip));
    }

    /** {@code encoder} as an id-to-context function reading the layer {@code clipSkip} names (0: its default). */
    public static UnaryOperator<Tensor> layer(TextEncoder encoder, int clipSkip) {
        if (clipSkip < 0) {
            throw new IllegalArgumentException("clip skip must be >= 1 (or 0 for the model's default), got " + clipSkip);
        }
        return clipSkip == 0 ? encoder::encode : ids -> encoder.encode(ids, clipSkip);
    }
}
