package dev.ldm4j.pipeline;

import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.sampling.SeededNoise;
import dev.ldm4j.vae.AutoencoderKL;
import dev.ldm4j.vae.Posterior;
import org.bytedeco.pytorch.Tensor;

/** Images to diffusion latents: scale_factor times the VAE posterior's mean or a draw from it. */
final class LatentEncoder {
    private LatentEncoder() {}

    /**
     * The diffusion latent [batch, C, h, w] of one image [1, 3, H, W] in [-1, 1]. The image is encoded once; a
     * sampled latent draws its noise for the whole batch in one call (as CompVis does for a repeated image).
     */
    static Tensor encode(LatentDiffusionModel model, Tensor image, int batch, InitImage.Encoding encoding,
                         SeededNoise noise) {
        AutoencoderKL vae = model.vae();
        Posterior p = model.encodeImage(image);
        if (encoding == InitImage.Encoding.MEAN) {
            return vae.toDiffusion(p.mode().repeat(batch, 1, 1, 1));
        }
        Posterior batched = new Posterior(p.mean().repeat(batch, 1, 1, 1), p.logvar().repeat(batch, 1, 1, 1),
                p.std().repeat(batch, 1, 1, 1));
        return vae.toDiffusion(batched.sample(noise));
    }
}
