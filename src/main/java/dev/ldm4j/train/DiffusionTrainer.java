package dev.ldm4j.train;

import dev.ldm4j.data.Batch;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.nn.AdamWOptimizer;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.unet.Conditioning;
import dev.ldm4j.vae.Posterior;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Latent diffusion training, one step at a time: x0 = scale_factor times a sample of the frozen autoencoder's
 * posterior, t uniform over the schedule's timesteps, x_t noised, the UNet (and, when it trains, the text
 * encoder) asked for eps or v, AdamW with warmup and global-norm clipping, then the EMA update.
 *
 * <p>Every random draw comes from one torch CPU generator seeded by {@link TrainConfig#seed()}, in a fixed
 * order per step (caption dropout [B], timesteps [B], posterior noise, diffusion noise), so a run is
 * deterministic on the CPU for a given thread count, and {@link TrainingState} can resume it exactly.
 * Not thread-safe.
 */
public final class DiffusionTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(DiffusionTrainer.class);

    private LatentDiffusion model;
    private final TrainConfig config;
    private final DiffusionObjective objective;
    private final AdamWOptimizer optimizer;
    private final Ema ema;
    private final Generator generator;
    private final LatentCache cache;
    private final List<Tensor> trainable;
    private long step;
    private boolean warnedUncacheable;

    public DiffusionTrainer(LatentDiffusion model, TrainConfig config) {
        this.model = model;
        this.config = config;
        this.objective = new DiffusionObjective(model.schedule(), model.prediction(), config.minSnrGamma());
        this.optimizer = new AdamWOptimizer(model.trainable(), new AdamWOptimizer.Settings(config.beta1(),
                config.beta2(), config.adamEps(), config.weightDecay()));
        this.ema = config.emaDecay() > 0 ? new Ema(model.trainable(), config.emaDecay(), config.emaWarmup()) : null;
        this.generator = Tensors.retain(torch.createCPUGenerator(config.seed()));
        this.cache = config.cacheLatents() ? new LatentCache() : null;
        this.trainable = new ArrayList<>(model.trainable().values());
    }

    public LatentDiffusion model() {
        return model;
    }

    public TrainConfig config() {
        return config;
    }

    public DiffusionObjective objective() {
        return objective;
    }

    /** Steps done so far; the next step uses batch number {@code steps()} of the data. */
    public long steps() {
        return step;
    }

    AdamWOptimizer optimizer() {
        return optimizer;
    }

    /** The weight average, or null when EMA is off. */
    Ema ema() {
        return ema;
    }

    /**
     * Sets the autoencoder scale factor to 1 / std of the latents of {@code batch} (CompVis
     * {@code scale_by_std}, so the diffusion model sees latents of unit variance). Only before the first step;
     * the samples come from the training generator.
     *
     * @return the new scale factor
     */
    public double scaleLatentsByStd(Batch batch) {
        if (step != 0) {
            throw new IllegalStateException("the latent scale can only be set before the first step");
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor z = posteriorSample(batch);
            double std = z.std().item().toDouble();
            if (!(std > 0) || Double.isInfinite(std)) {
                throw new IllegalStateException("cannot scale latents by their std: std = " + std);
            }
            model = model.withScaleFactor(1.0 / std);
            LOG.info("latent std {} -> scale_factor {}", String.format("%.5f", std),
                    String.format("%.5f", 1.0 / std));
            return 1.0 / std;
        }
    }

    /** One optimisation step on {@code batch}. */
    public StepResult step(Batch batch) {
        if (InferenceMode.is_enabled()) {
            throw new IllegalStateException("training cannot run under InferenceMode");
        }
        long t0 = System.nanoTime();
        long next = step + 1;
        double lr = config.learningRateAt(next);
        double lossValue;
        double gradNorm = Double.NaN;
        try (PointerScope scope = new PointerScope()) {
            zeroGrads();
            int b = batch.size();
            float[] u = Tensors.toFloats(torch.rand(new long[] {b}, new GeneratorOptional(generator),
                    new org.bytedeco.pytorch.DimnameListOptional(), Tensors.options(ScalarType.Float)));
            Tensor t = torch.randint(objective.timesteps(), new long[] {b}, new GeneratorOptional(generator),
                    Tensors.options(ScalarType.Long));
            Tensor x0;
            Tensor noise;
            try (NoGradGuard g = new NoGradGuard()) {
                x0 = posteriorSample(batch).mul(new Scalar(model.config().vae().scaleFactor()));
                noise = torch.randn(Tensors.shape(x0), new GeneratorOptional(generator),
                        Tensors.options(ScalarType.Float));
            }
            List<String> captions = new ArrayList<>(batch.captions());
            for (int i = 0; i < b; i++) {
                if (u[i] < config.captionDropout()) {
                    captions.set(i, "");
                }
            }
            Tensor xt = objective.noised(x0, noise, t);
            Tensor target = objective.target(x0, noise, t);
            Tensor output;
            try (Autocast a = Autocast.of(config.precision())) {
                Tensor context = model.encodeCaptions(captions);
                output = model.unet().forward(xt, t, Conditioning.crossAttn(context));
            }
            Tensor loss = objective.loss(output, target, t);
            loss.backward();
            lossValue = loss.item().toDouble();
            if (!Double.isFinite(lossValue)) {
                throw new IllegalStateException("the loss of step " + next + " is " + lossValue
                        + " (diverged: lower the learning rate or enable gradient clipping)");
            }
            if (config.maxGradNorm() > 0) {
                gradNorm = torch.clip_grad_norm_(new TensorVector(trainable.toArray(Tensor[]::new)),
                        config.maxGradNorm());
            }
            optimizer.step(lr);
            if (ema != null) {
                ema.update();
            }
        }
        step = next;
        return new StepResult(step, lossValue, lr, gradNorm, batch.size(), (System.nanoTime() - t0) / 1e9);
    }

    private void zeroGrads() {
        try (NoGradGuard g = new NoGradGuard()) {
            for (Tensor p : trainable) {
                Tensor grad = p.grad();
                if (grad.defined()) {
                    grad.zero_();
                }
            }
        }
    }

    /** An unscaled latent sample of the frozen autoencoder's posterior, noise from the training generator. */
    private Tensor posteriorSample(Batch batch) {
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor moments;
            if (cache != null && batch.keys() != null) {
                moments = cache.moments(batch, model.vae());
            } else {
                if (cache != null && !warnedUncacheable) {
                    LOG.warn("the training data gives no image keys: latents are not cached");
                    warnedUncacheable = true;
                }
                moments = model.vae().moments(batch.images());
            }
            Posterior p = Posterior.fromMoments(moments);
            Tensor eps = torch.randn(Tensors.shape(p.mean()), new GeneratorOptional(generator),
                    Tensors.options(ScalarType.Float));
            return p.mean().add(p.std().mul(eps));
        }
    }

    /**
     * The weights to publish: every parameter of the model, the trainable ones replaced by their EMA when
     * EMA is on. Live tensors, float32.
     */
    public Map<String, Tensor> exportWeights() {
        Map<String, Tensor> out = new LinkedHashMap<>(model.parameters());
        if (ema != null) {
            out.putAll(ema.shadow());
        }
        return out;
    }

    /** The generator's state (a copy, uint8). */
    Tensor generatorState() {
        return generator.get_state();
    }

    /** Puts back what {@link TrainingState} saved. */
    void restore(long step, Tensor generatorState, long adamSteps, Map<String, Tensor> expAvg,
                 Map<String, Tensor> expAvgSq, long emaUpdates, Map<String, Tensor> emaShadow) {
        generator.set_state(generatorState);
        optimizer.restore(adamSteps, expAvg, expAvgSq);
        if (ema != null) {
            if (emaShadow.isEmpty()) {
                throw new BadRequestException("the training state has no EMA weights but EMA is on");
            }
            ema.restore(emaUpdates, emaShadow);
        }
        this.step = step;
    }
}
