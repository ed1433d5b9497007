package dev.ldm4j.vae;

import dev.ldm4j.nn.BlockScope;
import dev.ldm4j.nn.Conv2d;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/**
 * TAESD encoder: image [B, 3, H, W] in [0, 1] -> diffusion latent [B, latentChannels, H / 8, W / 8] (already
 * in the space the diffusion model denoises; no scale factor). Fields mirror the {@code nn.Sequential}
 * indices of {@code taesd_encoder}: layers[i] is key prefix {@code i.}.
 */
public final class TaesdEncoder {
    static final int WIDTH = 64;
    static final int LAYERS = 15;

    private final TaesdVariant variant;
    private final TaesdLayer[] layers = new TaesdLayer[LAYERS];

    /** @param w the weights at the root of the encoder's Sequential (keys {@code 0.weight}, {@code 1.conv.0.weight}, ...) */
    public TaesdEncoder(Weights w, int latentChannels, boolean midblockGn) {
        this.variant = new TaesdVariant(latentChannels, midblockGn);
        layers[0] = new Conv2d(w.sub(0), 3, WIDTH, 3)::forward;
        layers[1] = block(w, 1, false);
        int i = 2;
        for (int stage = 0; stage < 3; stage++) {
            layers[i] = new Conv2d(w.sub(i), WIDTH, WIDTH, 3, 2, 1, false)::forward;
            i++;
            // the lowest resolution (last stage) holds the mid blocks
            boolean gn = midblockGn && stage == 2;
            for (int b = 0; b < 3; b++, i++) {
                layers[i] = block(w, i, gn);
            }
        }
        layers[i] = new Conv2d(w.sub(i), WIDTH, latentChannels, 3)::forward;
    }

    public TaesdEncoder(Weights w, TaesdVariant variant) {
        this(w, variant.latentChannels(), variant.midblockGn());
    }

    private static TaesdLayer block(Weights w, int index, boolean midblockGn) {
        return new TaesdBlock(w.sub(index), WIDTH, WIDTH, midblockGn);
    }

    public TaesdVariant variant() {
        return variant;
    }

    public int downscaleFactor() {
        return 8;
    }

    /** @param image [B, 3, H, W] in [0, 1] */
    public Tensor encode(Tensor image) {
        Tensor h = image;
        for (TaesdLayer layer : layers) {
            Tensor in = h;
            h = BlockScope.run(() -> layer.forward(in));
        }
        return h;
    }
}
