package dev.ldm4j.data;

import dev.ldm4j.nn.Tensors;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * One batch of training examples.
 *
 * @param images   float32 [B, 3, N, N] in [-1, 1]
 * @param captions B captions, in the images' order ("" is the empty, unconditional caption)
 * @param keys     B names that identify each image's pixels exactly (a flipped copy has its own key, see
 *                 {@link Dataset#key}), for the latent cache; null when the source cannot name them (then
 *                 nothing is cached)
 */
public record Batch(Tensor images, List<String> captions, List<String> keys) {
    public Batch {
        long[] s = Tensors.shape(images);
        if (s.length != 4 || s[1] != 3) {
            throw new IllegalArgumentException("training images must be [B, 3, H, W], got " + Tensors.shapeString(images));
        }
        if (Tensors.scalarType(images) != ScalarType.Float) {
            throw new IllegalArgumentException("training images must be float32 in [-1, 1]");
        }
        captions = List.copyOf(captions);
        if (captions.size() != s[0]) {
            throw new IllegalArgumentException(s[0] + " images but " + captions.size() + " captions");
        }
        if (keys != null) {
            keys = List.copyOf(keys);
            if (keys.size() != s[0]) {
                throw new IllegalArgumentException(s[0] + " images but " + keys.size() + " keys");
            }
        }
    }

    /** A batch whose images have no keys (nothing of it is cached). */
    public static Batch of(Tensor images, List<String> captions) {
        return new Batch(images, captions, null);
    }

    public int size() {
        return captions.size();
    }
}
