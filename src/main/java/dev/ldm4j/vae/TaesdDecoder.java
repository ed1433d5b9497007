package dev.ldm4j.vae;

import dev.ldm4j.nn.BlockScope;
import dev.ldm4j.nn.Conv2d;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/**
 * TAESD decoder: diffusion latent [B, latentChannels, h, w] -> image [B, 3, 8h, 8w], nominally [0, 1] (not
 * clamped). Fields mirror the {@code nn.Sequential} indices of {@code taesd_decoder}: layers[i] is key
 * prefix {@code i.}; the parameter-free entries (clamp, ReLU, upsample) sit at their indices too.
 */
public final class TaesdDecoder {
    static final int WIDTH = TaesdEncoder.WIDTH;
    static final int LAYERS = 20;
    /** Soft clamp of the incoming latent: tanh(x / 3) * 3. */
    private static final double LATENT_MAGNITUDE = 3.0;

    private final TaesdVariant variant;
    private final TaesdLayer[] layers = new TaesdLayer[LAYERS];

    /** @param w the weights at the root of the decoder's Sequential (keys {@code 1.weight}, {@code 3.conv.0.weight}, ...) */
    public TaesdDecoder(Weights w, int latentChannels, boolean midblockGn) {
        this.variant = new TaesdVariant(latentChannels, midblockGn);
        layers[0] = TaesdDecoder::softClamp;
        layers[1] = new Conv2d(w.sub(1), latentChannels, WIDTH, 3)::forward;
        layers[2] = Tensor::relu;
        int i = 3;
        for (int stage = 0; stage < 3; stage++) {
            // the lowest resolution (first stage) holds the mid blocks
            boolean gn = midblockGn && stage == 0;
            for (int b = 0; b < 3; b++, i++) {
                layers[i] = new TaesdBlock(w.sub(i), WIDTH, WIDTH, gn);
            }
            layers[i++] = Ops::upsampleNearest2x;
            layers[i] = new Conv2d(w.sub(i), WIDTH, WIDTH, 3, 1, 1, false)::forward;
            i++;
        }
        layers[i] = new TaesdBlock(w.sub(i), WIDTH, WIDTH, false);
        i++;
        layers[i] = new Conv2d(w.sub(i), WIDTH, 3, 3)::forward;
    }

    public TaesdDecoder(Weights w, TaesdVariant variant) {
        this(w, variant.latentChannels(), variant.midblockGn());
    }

    private static Tensor softClamp(Tensor x) {
        return x.div(Ops.s(LATENT_MAGNITUDE)).tanh().mul(Ops.s(LATENT_MAGNITUDE));
    }

    public TaesdVariant variant() {
        return variant;
    }

    public int upscaleFactor() {
        return 8;
    }

    /** @param latent a diffusion latent (what the sampler produced; no scale factor) */
    public Tensor decode(Tensor latent) {
        Tensor h = latent;
        for (TaesdLayer layer : layers) {
            Tensor in = h;
            h = BlockScope.run(() -> layer.forward(in));
        }
        return h;
    }
}
