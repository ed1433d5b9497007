package dev.ldm4j.train.data;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/** A batch of examples: images float32 [B, 3, N, N] in [-1, 1] and their B captions, in the same order. */
public record Batch(Tensor images, List<String> captions) {
    public Batch {
        captions = List.copyOf(captions);
    }

    public int size() {
        return captions.size();
    }
}
