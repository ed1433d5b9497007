package dev.ldm4j.train.vae;

import dev.ldm4j.nn.Ops;
import dev.ldm4j.vae.Posterior;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The terms of the autoencoder objective (the PSNR it is judged by is {@link dev.ldm4j.nn.ImageTensors#psnr}).
 * Reductions follow latent diffusion's autoencoder loss: per-example sums, averaged over the batch (so the KL
 * weight of its configs, 1e-6, means the same here); the adversarial terms are means over the logit map.
 */
public final class VaeLosses {
    private VaeLosses() {}

    /** Sum over each image of |x - xrec|, averaged over the batch (a 0-d tensor with a graph). */
    public static Tensor reconstruction(Tensor x, Tensor xrec) {
        return x.sub(xrec).abs().sum().div(Ops.s(x.size(0)));
    }

    /**
     * KL(N(mean, exp(logvar)) || N(0, 1)) summed over each example's latent values and averaged over the batch:
     * 0.5 * sum(mean^2 + exp(logvar) - 1 - logvar) / B.
     */
    public static Tensor kl(Posterior p) {
        Tensor mean = p.mean();
        Tensor logvar = p.logvar();
        return mean.pow(Ops.s(2)).add(logvar.exp()).sub(Ops.s(1)).sub(logvar).sum().mul(Ops.s(0.5))
                .div(Ops.s(mean.size(0)));
    }

    /** The discriminator's loss on logits of real and reconstructed images: hinge or vanilla (softplus). */
    public static Tensor discriminator(Tensor realLogits, Tensor fakeLogits, String kind) {
        Tensor real;
        Tensor fake;
        if (kind.equals("vanilla")) {
            real = torch.softplus(realLogits.neg()).mean();
            fake = torch.softplus(fakeLogits).mean();
        } else {
            real = torch.relu(realLogits.neg().add(Ops.s(1))).mean();
            fake = torch.relu(fakeLogits.add(Ops.s(1))).mean();
        }
        return real.add(fake).mul(Ops.s(0.5));
    }

    /** The generator's adversarial loss: -mean(D(xrec)). */
    public static Tensor generator(Tensor fakeLogits) {
        return fakeLogits.mean().neg();
    }
}
