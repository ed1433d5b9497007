package dev.ldm4j.vae;

import dev.ldm4j.nn.Conv2d;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/**
 * The KL-regularised autoencoder of latent diffusion ({@code first_stage_model}): images in [-1, 1] to a
 * Gaussian posterior over latents and latents back to images. Latents here are VAE latents; the diffusion
 * model works on {@code scaleFactor} times them (see {@link #toDiffusion} / {@link #fromDiffusion}).
 * Immutable after construction; safe to share across threads.
 */
public final class AutoencoderKL {
    private final VaeConfig config;
    private final Encoder encoder;
    private final Decoder decoder;
    private final Conv2d quantConv;
    private final Conv2d postQuantConv;

    /** @param w the checkpoint below {@code first_stage_model.} */
    public AutoencoderKL(Weights w, VaeConfig config) {
        this.config = config;
        this.encoder = new Encoder(w.sub("encoder"), config);
        this.decoder = new Decoder(w.sub("decoder"), config);
        this.quantConv = new Conv2d(w.sub("quant_conv"), 2L * config.zChannels(), 2L * config.embedDim(), 1);
        this.postQuantConv = new Conv2d(w.sub("post_quant_conv"), config.embedDim(), config.zChannels(), 1);
    }

    public VaeConfig config() {
        return config;
    }

    public int downscaleFactor() {
        return config.downscaleFactor();
    }

    /** quant_conv(encoder(image)): [B, 2 * embed_dim, H / f, W / f], mean channels first. */
    public Tensor moments(Tensor image) {
        return quantConv.forward(encoder.forward(image));
    }

    /** @param image [B, 3, H, W] in [-1, 1], H and W multiples of {@link #downscaleFactor()} */
    public Posterior encode(Tensor image) {
        return Posterior.fromMoments(moments(image));
    }

    /** @param z an unscaled VAE latent [B, embed_dim, h, w]; returns the raw image, nominally [-1, 1], not clamped */
    public Tensor decode(Tensor z) {
        return decoder.forward(postQuantConv.forward(z));
    }

    /** VAE latent -> the latent the diffusion model sees. */
    public Tensor toDiffusion(Tensor z) {
        return z.mul(Ops.s(config.scaleFactor()));
    }

    /**
     * Diffusion latent -> VAE latent (what {@link #decode} takes). Multiplies by the reciprocal, as
     * decode_first_stage does, rather than dividing: the two differ in the last float32 bit.
     */
    public Tensor fromDiffusion(Tensor latent) {
        return latent.mul(Ops.s(1.0 / config.scaleFactor()));
    }
}
