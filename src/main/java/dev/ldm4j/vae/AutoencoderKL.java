package dev.ldm4j.vae;

import dev.ldm4j.nn.Conv2d;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Weights;
import java.util.function.Supplier;
import org.bytedeco.pytorch.Tensor;

/**
 * The KL-regularised autoencoder of latent diffusion ({@code first_stage_model}): images in [-1, 1] to a
 * Gaussian posterior over latents and latents back to images. Latents here are VAE latents; the diffusion
 * model works on {@code scaleFactor} times them (see {@link #toDiffusion} / {@link #fromDiffusion}).
 * Immutable after construction; safe to share across threads.
 */
public final class AutoencoderKL {
    /** The encoding half, {@code encoder} and {@code quant_conv}: all that text-to-image never runs. */
    public static final class EncoderPart {
        private final Encoder encoder;
        private final Conv2d quantConv;

        private EncoderPart(Encoder encoder, Conv2d quantConv) {
            this.encoder = encoder;
            this.quantConv = quantConv;
        }

        /** @param w the checkpoint below {@code first_stage_model.} */
        public static EncoderPart of(Weights w, VaeConfig config) {
            return new EncoderPart(new Encoder(w.sub("encoder"), config), quantConv(w, config));
        }

        private static Conv2d quantConv(Weights w, VaeConfig config) {
            return new Conv2d(w.sub("quant_conv"), 2L * config.zChannels(), 2L * config.embedDim(), 1);
        }
    }

    private final VaeConfig config;
    private final Supplier<EncoderPart> encoderLoader;
    private volatile EncoderPart encoderPart;
    private final Decoder decoder;
    private final Conv2d postQuantConv;

    /** @param w the checkpoint below {@code first_stage_model.} */
    public AutoencoderKL(Weights w, VaeConfig config) {
        this.config = config;
        this.encoderLoader = null;
        // the checkpoint's order (encoder, decoder, quant_conv, post_quant_conv): random initialisation for
        // training draws the parameters in the order they are asked for
        Encoder encoder = new Encoder(w.sub("encoder"), config);
        this.decoder = new Decoder(w.sub("decoder"), config);
        this.encoderPart = new EncoderPart(encoder, EncoderPart.quantConv(w, config));
        this.postQuantConv = postQuantConv(w, config);
    }

    private AutoencoderKL(Weights w, VaeConfig config, Supplier<EncoderPart> encoderLoader) {
        this.config = config;
        this.encoderLoader = encoderLoader;
        this.decoder = new Decoder(w.sub("decoder"), config);
        this.postQuantConv = postQuantConv(w, config);
    }

    private static Conv2d postQuantConv(Weights w, VaeConfig config) {
        return new Conv2d(w.sub("post_quant_conv"), config.embedDim(), config.zChannels(), 1);
    }

    /**
     * An autoencoder that takes its decoder from {@code w} now and its encoder from {@code encoderLoader} the
     * first time an image is encoded: text-to-image never holds the encoder's weights (a third of SD's VAE).
     */
    public static AutoencoderKL withLazyEncoder(Weights w, VaeConfig config, Supplier<EncoderPart> encoderLoader) {
        return new AutoencoderKL(w, config, encoderLoader);
    }

    private EncoderPart encoderPart() {
        EncoderPart e = encoderPart;
        if (e == null) {
            synchronized (this) {
                if (encoderPart == null) {
                    encoderPart = encoderLoader.get();
                }
                e = encoderPart;
            }
        }
        return e;
    }

    public VaeConfig config() {
        return config;
    }

    public int downscaleFactor() {
        return config.downscaleFactor();
    }

    /** quant_conv(encoder(image)): [B, 2 * embed_dim, H / f, W / f], mean channels first. */
    public Tensor moments(Tensor image) {
        EncoderPart e = encoderPart();
        return e.quantConv.forward(e.encoder.forward(image));
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
