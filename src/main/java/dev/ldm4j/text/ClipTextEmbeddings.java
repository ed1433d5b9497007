package dev.ldm4j.text;

import dev.ldm4j.nn.Embedding;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/** {@code embeddings}: token embedding plus learned absolute position embedding. */
final class ClipTextEmbeddings {
    private final Embedding tokenEmbedding;
    private final Embedding positionEmbedding;

    ClipTextEmbeddings(Weights w, ClipTextConfig c) {
        this.tokenEmbedding = new Embedding(w.sub("token_embedding"), c.vocabSize(), c.hiddenSize());
        this.positionEmbedding = new Embedding(w.sub("position_embedding"), c.maxPositionEmbeddings(), c.hiddenSize());
    }

    /** ids [B, N] -> [B, N, hidden]. */
    Tensor forward(Tensor ids) {
        // Positions are always 0..N-1. The checkpoint's embeddings.position_ids buffer says the same, but some
        // merged checkpoints carry it as rounded floats, so it is not trusted (and not loaded).
        Tensor positions = positionEmbedding.weight().narrow(0, 0, ids.size(1));
        return tokenEmbedding.forward(ids).add(positions);
    }
}
