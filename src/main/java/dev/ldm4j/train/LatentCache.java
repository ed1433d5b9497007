package dev.ldm4j.train;

import dev.ldm4j.data.Batch;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.vae.AutoencoderKL;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * The frozen autoencoder's posterior (its moments: mean and log-variance) of each image seen, by the image's
 * key, so that later epochs draw latent samples without running the encoder. Images are encoded one at a time
 * so that a moment does not depend on which batch first brought the image (a resumed run gets the same bits).
 */
final class LatentCache {
    private final Map<String, Tensor> moments = new HashMap<>();

    /** quant_conv(encoder(images)) [B, 2 * embed_dim, h, w] of the batch, from the cache where possible. */
    Tensor moments(Batch batch, AutoencoderKL vae) {
        Tensor[] rows = new Tensor[batch.size()];
        try (NoGradGuard g = new NoGradGuard()) {
            for (int i = 0; i < rows.length; i++) {
                String key = batch.keys().get(i);
                Tensor m = moments.get(key);
                if (m == null) {
                    m = vae.moments(batch.images().narrow(0, i, 1));
                    m.retainReference();
                    moments.put(key, m);
                }
                rows[i] = m;
            }
        }
        return Ops.cat(0, rows);
    }

    int size() {
        return moments.size();
    }
}
