package dev.ldm4j.server;

import dev.ldm4j.io.RgbImage;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.vae.TaesdDecoder;
import dev.ldm4j.vae.TiledDecode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A picture of a step's clean-latent prediction for progress answers (the first image of the batch): TAESD's
 * decode when the server was given a TAESD for this latent ({@code --preview-taesd}, fast), else the model's own
 * decode, in tiles where the final image would be (so a preview needs no more memory than the result).
 */
final class Previews {
    private final TaesdDecoder taesd;

    /** @param taesd a TAESD decoder for previews, or null to decode them as the final image is */
    Previews(TaesdDecoder taesd) {
        this.taesd = taesd;
    }

    /** The preview of {@code denoised} [B, C, h, w] of {@code model}. */
    RgbImage of(Tensor denoised, LatentDiffusionModel model) {
        Tensor first = denoised.size(0) > 1 ? denoised.narrow(0, 0, 1) : denoised;
        if (taesd != null && first.size(1) == taesd.variant().latentChannels()) {
            Tensor img = taesd.decode(first.cpu().to(ScalarType.Float)).clamp(new ScalarOptional(new Scalar(0.0)),
                    new ScalarOptional(new Scalar(1.0)));
            return ImageTensors.toRgb8(img).get(0);
        }
        long f = model.downscaleFactor();
        long pixels = first.size(2) * first.size(3) * f * f;
        return ImageTensors.toRgb8(model.decode(first, TiledDecode.wanted(null, pixels))).get(0);
    }
}
