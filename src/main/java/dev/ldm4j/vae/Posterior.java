package dev.ldm4j.vae;

import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.SeededNoise;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;

/**
 * The diagonal Gaussian the KL encoder predicts for each latent value (in VAE units, not yet multiplied
 * by the scale factor).
 *
 * @param mean   [B, embed_dim, h, w]
 * @param logvar log-variance, clamped to [-30, 20]
 * @param std    exp(logvar / 2)
 */
public record Posterior(Tensor mean, Tensor logvar, Tensor std) {
    private static final double LOGVAR_MIN = -30.0;
    private static final double LOGVAR_MAX = 20.0;

    /** From quant_conv's output: mean channels first, then log-variance channels. */
    public static Posterior fromMoments(Tensor moments) {
        long half = moments.size(1) / 2;
        Tensor mean = moments.narrow(1, 0, half);
        Tensor logvar = moments.narrow(1, half, half)
                .clamp(new ScalarOptional(Ops.s(LOGVAR_MIN)), new ScalarOptional(Ops.s(LOGVAR_MAX)));
        Tensor std = logvar.mul(Ops.s(0.5)).exp();
        return new Posterior(mean, logvar, std);
    }

    /** The deterministic latent (what img2img uses unless asked to sample). */
    public Tensor mode() {
        return mean;
    }

    /** mean + std * eps with eps = the next randn of the mean's shape from {@code noise}. */
    public Tensor sample(SeededNoise noise) {
        return mean.add(std.mul(noise.randn(Tensors.shape(mean))));
    }
}
