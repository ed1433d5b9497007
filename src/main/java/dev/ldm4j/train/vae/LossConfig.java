package dev.ldm4j.train.vae;

import dev.ldm4j.io.BadRequestException;
import java.util.Locale;

/**
 * The autoencoder's training objective, as {@code model.params.lossconfig.params} of an LDM autoencoder YAML
 * names it: an L1 reconstruction term summed over each image's pixels and averaged over the batch, plus
 * {@code klWeight} times the posterior's KL divergence (same reduction), plus, from step {@code discStart} on,
 * a PatchGAN term weighted by {@code discWeight} (times the adaptive weight when {@code adaptiveWeight}).
 * The LPIPS term of the reference is not implemented: a non-zero {@code perceptual_weight} is ignored.
 *
 * @param klWeight       weight of the KL term ({@code kl_weight}; 1e-6 in the CompVis configs)
 * @param discStart      0-based step from which the discriminator trains and the generator term counts
 * @param discWeight     weight of the generator term ({@code disc_weight})
 * @param discFactor     factor on both adversarial terms once switched on ({@code disc_factor})
 * @param discLayers     strided layers of the PatchGAN ({@code disc_num_layers}; 3 gives 70x70 patches)
 * @param discChannels   channels of its first layer ({@code disc_ndf})
 * @param discLoss       {@code hinge} or {@code vanilla} (softplus)
 * @param adaptiveWeight scale the generator term by |grad rec| / |grad gen| at the decoder's last layer
 */
public record LossConfig(double klWeight, long discStart, double discWeight, double discFactor, int discLayers,
                         int discChannels, String discLoss, boolean adaptiveWeight) {
    public LossConfig {
        if (!(klWeight >= 0) || !(discWeight >= 0) || !(discFactor >= 0)) {
            throw new BadRequestException("lossconfig: kl_weight, disc_weight and disc_factor must be >= 0");
        }
        if (discLayers < 1 || discChannels < 1) {
            throw new BadRequestException("lossconfig: disc_num_layers and disc_ndf must be positive, got "
                    + discLayers + " and " + discChannels);
        }
        discLoss = discLoss.toLowerCase(Locale.ROOT);
        if (!discLoss.equals("hinge") && !discLoss.equals("vanilla")) {
            throw new BadRequestException("lossconfig: disc_loss must be hinge or vanilla, got " + discLoss);
        }
    }

    /** The reference defaults with the given KL weight and discriminator start. */
    public static LossConfig of(double klWeight, long discStart) {
        return new LossConfig(klWeight, discStart, 1.0, 1.0, 3, 64, "hinge", true);
    }

    /** Whether the adversarial terms count at 0-based step {@code globalStep} (the reference's adopt_weight). */
    public boolean discriminatorOn(long globalStep) {
        return discFactor > 0 && globalStep >= discStart;
    }

    public LossConfig withDiscStart(long start) {
        return new LossConfig(klWeight, start, discWeight, discFactor, discLayers, discChannels, discLoss,
                adaptiveWeight);
    }

    public LossConfig withAdaptiveWeight(boolean adaptive) {
        return new LossConfig(klWeight, discStart, discWeight, discFactor, discLayers, discChannels, discLoss,
                adaptive);
    }
}
