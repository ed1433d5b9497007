package dev.ldm4j.train.vae;

/**
 * What one autoencoder step did. The adversarial fields are NaN while the discriminator is off.
 *
 * @param step          1-based number of the step (also the steps done)
 * @param loss          the autoencoder's total loss
 * @param reconstruction L1 summed per image, averaged over the batch
 * @param kl            KL summed per example, averaged over the batch (before the KL weight)
 * @param generatorLoss -mean D(xrec)
 * @param discLoss      the discriminator's loss
 * @param discWeight    the weight the generator term got (adaptive x disc_weight x disc_factor)
 * @param learningRate  the rate of the update
 * @param examples      images in the batch
 * @param seconds       wall time of the step, batch loading excluded
 */
public record VaeStepResult(long step, double loss, double reconstruction, double kl, double generatorLoss,
                            double discLoss, double discWeight, double learningRate, int examples, double seconds) {
    public boolean discriminatorOn() {
        return !Double.isNaN(discLoss);
    }

    public double examplesPerSecond() {
        return examples / seconds;
    }
}
