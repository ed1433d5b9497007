package dev.ldm4j.train;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.nn.Precision;

/**
 * The hyper-parameters of a latent diffusion training run (what the model is, and whether it predicts eps or
 * v, lives in its {@link dev.ldm4j.model.ModelConfig}).
 *
 * @param batchSize       examples per step
 * @param learningRate    peak AdamW learning rate
 * @param beta1           AdamW first-moment decay
 * @param beta2           AdamW second-moment decay
 * @param adamEps         AdamW denominator epsilon
 * @param weightDecay     AdamW decoupled weight decay (applied to every trainable tensor)
 * @param warmupSteps     the learning rate rises linearly from lr / warmup to lr over this many steps; 0 = none
 * @param maxGradNorm     clip the global gradient norm to this; 0 = no clipping
 * @param emaDecay        decay of the exponential moving average of the weights; 0 = no EMA (the raw weights
 *                        are exported)
 * @param emaWarmup       use min(emaDecay, (1 + n) / (10 + n)) at the n-th update, as CompVis LitEma does, so
 *                        that the average is not dominated by the random start in short runs
 * @param captionDropout  probability that a caption is replaced by the empty caption (classifier-free guidance)
 * @param minSnrGamma     min-SNR-gamma loss weighting (Hang et al. 2023); 0 = unweighted
 * @param seed            seed of the torch CPU generator behind timesteps, noise, posterior samples and dropout
 * @param precision       arithmetic of the forward and backward passes: fp32, or bf16 autocast over float32
 *                        master weights ({@link Autocast})
 * @param cacheLatents    keep the frozen autoencoder's posterior of each image (keyed by
 *                        {@link dev.ldm4j.data.Batch#keys}) instead of encoding it every time it is seen
 * @param decayStart      the last step at the peak learning rate before the cooldown; see {@code decayEnd}
 * @param decayEnd        with {@code decayEnd > 0}: after step {@code decayStart} the learning rate falls
 *                        linearly, reaching lr / (decayEnd - decayStart) at step {@code decayEnd} and staying
 *                        there; 0 = no cooldown. Absolute steps, so that a resumed run keeps its schedule.
 */
public record TrainConfig(
        int batchSize,
        double learningRate,
        double beta1,
        double beta2,
        double adamEps,
        double weightDecay,
        int warmupSteps,
        double maxGradNorm,
        double emaDecay,
        boolean emaWarmup,
        double captionDropout,
        double minSnrGamma,
        long seed,
        Precision precision,
        boolean cacheLatents,
        long decayStart,
        long decayEnd) {

    public TrainConfig {
        if (batchSize <= 0) {
            throw new BadRequestException("batch size must be positive, got " + batchSize);
        }
        if (!(learningRate > 0)) {
            throw new BadRequestException("learning rate must be positive, got " + learningRate);
        }
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new BadRequestException("AdamW betas must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (!(adamEps > 0) || !(weightDecay >= 0)) {
            throw new BadRequestException("AdamW eps must be positive and weight decay >= 0");
        }
        if (warmupSteps < 0) {
            throw new BadRequestException("warmup steps must be >= 0, got " + warmupSteps);
        }
        if (!(maxGradNorm >= 0)) {
            throw new BadRequestException("max gradient norm must be >= 0 (0 = off), got " + maxGradNorm);
        }
        if (!(emaDecay >= 0 && emaDecay < 1)) {
            throw new BadRequestException("EMA decay must be in [0, 1) (0 = off), got " + emaDecay);
        }
        if (!(captionDropout >= 0 && captionDropout <= 1)) {
            throw new BadRequestException("caption dropout must be in [0, 1], got " + captionDropout);
        }
        if (!(minSnrGamma >= 0)) {
            throw new BadRequestException("min-SNR gamma must be >= 0 (0 = off), got " + minSnrGamma);
        }
        if (decayEnd != 0 && !(decayStart >= 0 && decayStart < decayEnd)) {
            throw new BadRequestException("learning-rate cooldown must run from a step >= 0 to a later one, got "
                    + decayStart + " to " + decayEnd);
        }
        if (precision == null) {
            throw new BadRequestException("precision is required");
        }
        Autocast.requireTraining(precision);
    }

    /**
     * Batch 16, lr 1e-4 with 100 warmup steps, AdamW (0.9, 0.999, 1e-8, weight decay 0.01), clipping at norm 1,
     * EMA 0.9999 with warmup, 10% caption dropout, no min-SNR weighting, seed 42, float32, no latent cache.
     */
    public static TrainConfig defaults() {
        return new TrainConfig(16, 1e-4, 0.9, 0.999, 1e-8, 0.01, 100, 1.0, 0.9999, true, 0.1, 0.0, 42,
                Precision.FP32, false, 0, 0);
    }

    public TrainConfig withBatchSize(int v) {
        return new TrainConfig(v, learningRate, beta1, beta2, adamEps, weightDecay, warmupSteps, maxGradNorm,
                emaDecay, emaWarmup, captionDropout, minSnrGamma, seed, precision, cacheLatents, decayStart, decayEnd);
    }

    public TrainConfig withLearningRate(double v) {
        return new TrainConfig(batchSize, v, beta1, beta2, adamEps, weightDecay, warmupSteps, maxGradNorm,
                emaDecay, emaWarmup, captionDropout, minSnrGamma, seed, precision, cacheLatents, decayStart, decayEnd);
    }

    public TrainConfig withWarmupSteps(int v) {
        return new TrainConfig(batchSize, learningRate, beta1, beta2, adamEps, weightDecay, v, maxGradNorm,
                emaDecay, emaWarmup, captionDropout, minSnrGamma, seed, precision, cacheLatents, decayStart, decayEnd);
    }

    public TrainConfig withEma(double decay, boolean warmup) {
        return new TrainConfig(batchSize, learningRate, beta1, beta2, adamEps, weightDecay, warmupSteps,
                maxGradNorm, decay, warmup, captionDropout, minSnrGamma, seed, precision, cacheLatents, decayStart, decayEnd);
    }

    public TrainConfig withCaptionDropout(double v) {
        return new TrainConfig(batchSize, learningRate, beta1, beta2, adamEps, weightDecay, warmupSteps,
                maxGradNorm, emaDecay, emaWarmup, v, minSnrGamma, seed, precision, cacheLatents, decayStart, decayEnd);
    }

    public TrainConfig withMinSnrGamma(double v) {
        return new TrainConfig(batchSize, learningRate, beta1, beta2, adamEps, weightDecay, warmupSteps,
                maxGradNorm, emaDecay, emaWarmup, captionDropout, v, seed, precision, cacheLatents, decayStart, decayEnd);
    }

    public TrainConfig withSeed(long v) {
        return new TrainConfig(batchSize, learningRate, beta1, beta2, adamEps, weightDecay, warmupSteps,
                maxGradNorm, emaDecay, emaWarmup, captionDropout, minSnrGamma, v, precision, cacheLatents, decayStart, decayEnd);
    }

    public TrainConfig withPrecision(Precision v) {
        return new TrainConfig(batchSize, learningRate, beta1, beta2, adamEps, weightDecay, warmupSteps,
                maxGradNorm, emaDecay, emaWarmup, captionDropout, minSnrGamma, seed, v, cacheLatents, decayStart, decayEnd);
    }

    public TrainConfig withCacheLatents(boolean v) {
        return new TrainConfig(batchSize, learningRate, beta1, beta2, adamEps, weightDecay, warmupSteps,
                maxGradNorm, emaDecay, emaWarmup, captionDropout, minSnrGamma, seed, precision, v, decayStart, decayEnd);
    }

    public TrainConfig withAdamW(double beta1, double beta2, double eps, double weightDecay) {
        return new TrainConfig(batchSize, learningRate, beta1, beta2, eps, weightDecay, warmupSteps, maxGradNorm,
                emaDecay, emaWarmup, captionDropout, minSnrGamma, seed, precision, cacheLatents, decayStart, decayEnd);
    }

    public TrainConfig withMaxGradNorm(double v) {
        return new TrainConfig(batchSize, learningRate, beta1, beta2, adamEps, weightDecay, warmupSteps, v,
                emaDecay, emaWarmup, captionDropout, minSnrGamma, seed, precision, cacheLatents, decayStart, decayEnd);
    }

    /** Cooldown over the steps after {@code start} up to {@code end}; see the record's {@code decayEnd}. */
    public TrainConfig withCooldown(long start, long end) {
        return new TrainConfig(batchSize, learningRate, beta1, beta2, adamEps, weightDecay, warmupSteps,
                maxGradNorm, emaDecay, emaWarmup, captionDropout, minSnrGamma, seed, precision, cacheLatents, start,
                end);
    }

    /** The learning rate of step {@code step} (1-based): linear warmup, constant, then the cooldown if any. */
    public double learningRateAt(long step) {
        double lr = warmupSteps == 0 || step >= warmupSteps ? learningRate
                : learningRate * Math.max(step, 1) / warmupSteps;
        if (decayEnd > 0 && step > decayStart) {
            long left = Math.max(decayEnd - step + 1, 1);
            lr *= (double) left / (decayEnd - decayStart);
        }
        return lr;
    }
}
