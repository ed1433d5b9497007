package dev.ldm4j.train.vae;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.nn.Precision;
import dev.ldm4j.train.Autocast;

/**
 * How an autoencoder run trains (what the YAML does not say). The optimiser is AdamW with the reference's
 * betas (0.5, 0.9); weight decay 0 makes it the reference's Adam.
 *
 * @param batchSize    images per step
 * @param learningRate the rate of both optimisers (the reference: base_learning_rate x batch size)
 * @param seed         seeds the initial weights, the posterior noise, the batch order and the flips
 * @param precision    fp32, or bf16 autocast for the forward passes (float32 weights and optimiser state; see
 *                     {@link Autocast})
 * @param flip         random horizontal flips of the training images
 * @param imageSize    side of the square training images (kept so that a resumed run reads the same pixels)
 */
public record VaeTrainOptions(int batchSize, double learningRate, long seed, Precision precision, double beta1,
                              double beta2, double weightDecay, boolean flip, int imageSize) {
    public VaeTrainOptions {
        if (batchSize <= 0) {
            throw new BadRequestException("batch size must be positive, got " + batchSize);
        }
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new BadRequestException("learning rate must be positive, got " + learningRate);
        }
        if (imageSize <= 0) {
            throw new BadRequestException("image size must be positive, got " + imageSize);
        }
        precision = Autocast.requireTraining(precision == null ? Precision.FP32 : precision);
    }

    /**
     * The reference's settings: lr = base_learning_rate x batch size, betas (0.5, 0.9), no decay, no flips,
     * images of the ddconfig's resolution.
     */
    public static VaeTrainOptions of(AutoencoderSpec spec, int batchSize, long seed) {
        return new VaeTrainOptions(batchSize, spec.baseLearningRate() * batchSize, seed, Precision.FP32, 0.5, 0.9,
                0.0, false, spec.vae().resolution());
    }

    public VaeTrainOptions withLearningRate(double lr) {
        return new VaeTrainOptions(batchSize, lr, seed, precision, beta1, beta2, weightDecay, flip, imageSize);
    }

    public VaeTrainOptions withPrecision(Precision p) {
        return new VaeTrainOptions(batchSize, learningRate, seed, p, beta1, beta2, weightDecay, flip, imageSize);
    }

    public VaeTrainOptions withFlip(boolean f) {
        return new VaeTrainOptions(batchSize, learningRate, seed, precision, beta1, beta2, weightDecay, f, imageSize);
    }

    public VaeTrainOptions withWeightDecay(double wd) {
        return new VaeTrainOptions(batchSize, learningRate, seed, precision, beta1, beta2, wd, flip, imageSize);
    }

    public VaeTrainOptions withImageSize(int size) {
        return new VaeTrainOptions(batchSize, learningRate, seed, precision, beta1, beta2, weightDecay, flip, size);
    }
}
