package dev.ldm4j.model;

import dev.ldm4j.nn.Tensors;
import dev.ldm4j.text.TextualInversions;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Appends the textual-inversion vectors to each text tower's token-embedding table, so the ids the prompt
 * chunker gives them look them up (see {@link TextualInversions}). The table keeps the checkpoint's rows, in its
 * dtype and on its device; the vectors are cast to match, as AUTOMATIC1111 casts them.
 */
final class TextualInversionPatch {
    private TextualInversionPatch() {}

    /** The patch for {@code embeddings}; {@code tables} maps each tower key to its table's parameter key. */
    static ParameterPatch of(TextualInversions embeddings, Map<String, String> tables) {
        if (embeddings.isEmpty()) {
            return (source, config) -> source;
        }
        Map<String, String> towerOfKey = new HashMap<>();
        tables.forEach((tower, key) -> towerOfKey.put(key, tower));
        int rows = embeddings.extraRows();
        return ParameterPatch.mapping((key, table) -> {
            String tower = towerOfKey.get(key);
            if (tower == null) {
                return table;
            }
            if (table.size(0) != embeddings.firstExtraId()) {
                throw new UnsupportedModelException(key + " has " + table.size(0) + " rows, but the tokenizer's "
                        + "vocabulary has " + embeddings.firstExtraId() + "; textual inversion needs them equal");
            }
            Tensor extra = Tensors.fromFloats(embeddings.rows(tower), rows, table.size(1)).to(table.device(),
                    Tensors.scalarType(table));
            return Tensors.retain(torch.cat(new TensorVector(table, extra), 0));
        });
    }
}
