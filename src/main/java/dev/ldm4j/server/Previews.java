package dev.ldm4j.server;

import dev.ldm4j.io.RgbImage;
import dev.ldm4j.model.Architecture;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.vae.TaesdDecoder;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A picture of a step's clean-latent prediction for progress answers (the first image of the batch): TAESD's
 * decode when the server was given one for this latent, else AUTOMATIC1111's "Approx cheap" preview, a fixed map
 * of the four latent channels to RGB at latent size (its coefficients for SDXL, and for SD 1.x / 2.x otherwise).
 * A latent of another channel count (the x4 upscaler) has no preview.
 */
final class Previews {
    private static final float[] SD = {
        0.298f, 0.207f, 0.208f,
        0.187f, 0.286f, 0.173f,
        -0.158f, 0.189f, 0.264f,
        -0.184f, -0.271f, -0.473f};
    private static final float[] SDXL = {
        0.3448f, 0.4168f, 0.4395f,
        -0.1953f, -0.0290f, 0.0250f,
        0.1074f, 0.0886f, -0.0163f,
        -0.3730f, -0.2499f, -0.2088f};

    private final TaesdDecoder taesd;

    /** @param taesd a TAESD decoder for previews, or null for the cheap approximation only */
    Previews(TaesdDecoder taesd) {
        this.taesd = taesd;
    }

    /** The preview of {@code denoised} [B, C, h, w] of {@code model}, or null when none applies. */
    RgbImage of(Tensor denoised, LatentDiffusionModel model) {
        Tensor first = denoised.narrow(0, 0, 1).cpu().to(ScalarType.Float);
        long channels = first.size(1);
        if (taesd != null && channels == taesd.variant().latentChannels()) {
            Tensor img = taesd.decode(first).clamp(new ScalarOptional(new Scalar(0.0)),
                    new ScalarOptional(new Scalar(1.0)));
            return ImageTensors.toRgb8(img).get(0);
        }
        if (channels != 4) {
            return null;
        }
        float[] coefs = model.architecture() == Architecture.SDXL ? SDXL : SD;
        // [1, 4, h, w] -> [1, h, w, 4] @ [4, 3] -> [1, 3, h, w], then (x + 1) / 2 in [0, 1]
        Tensor rgb = first.permute(0, 2, 3, 1).matmul(Tensors.fromFloats(coefs, 4, 3)).permute(0, 3, 1, 2);
        Tensor unit = rgb.add(new Scalar(1.0)).div(new Scalar(2.0)).clamp(new ScalarOptional(new Scalar(0.0)),
                new ScalarOptional(new Scalar(1.0)));
        return ImageTensors.toRgb8(unit.contiguous()).get(0);
    }
}
