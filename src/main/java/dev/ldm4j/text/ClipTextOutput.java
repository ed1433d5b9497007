package dev.ldm4j.text;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Everything a {@link ClipTextModel} pass computes.
 *
 * @param lastHiddenState the last layer's output after {@code final_layer_norm}, [B, N, hidden]
 * @param hiddenStates the embedding output (index 0), then each encoder layer's output (index i = layer i - 1),
 *     all before {@code final_layer_norm}; {@code numHiddenLayers + 1} tensors of [B, N, hidden]
 * @param pooled {@code lastHiddenState} at each row's first end-of-text token, [B, hidden]
 */
public record ClipTextOutput(Tensor lastHiddenState, List<Tensor> hiddenStates, Tensor pooled) {
    public ClipTextOutput {
        hiddenStates = List.copyOf(hiddenStates);
    }

    /** {@code hiddenStates[-k]} in Python's indexing: k = 1 is the last layer's output, k = 2 the one before. */
    public Tensor hiddenStateFromEnd(int k) {
        if (k < 1 || k > hiddenStates.size()) {
            throw new IllegalArgumentException("k must be in 1.." + hiddenStates.size() + ", got " + k);
        }
        return hiddenStates.get(hiddenStates.size() - k);
    }
}
