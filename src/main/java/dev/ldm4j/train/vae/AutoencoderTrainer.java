package dev.ldm4j.train.vae;

import dev.ldm4j.nn.AdamWOptimizer;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.ParameterSource;
import dev.ldm4j.nn.RandomSource;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Torch;
import dev.ldm4j.nn.Weights;
import dev.ldm4j.train.Autocast;
import dev.ldm4j.vae.AutoencoderKL;
import dev.ldm4j.vae.Posterior;
import dev.ldm4j.vae.VaeConfig;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a KL autoencoder ({@link AutoencoderKL}, the inference class itself) one step at a time: encode,
 * sample the posterior, decode; L1 + KL; from {@link LossConfig#discStart()} on a PatchGAN term for the
 * autoencoder and a hinge (or vanilla) step for the discriminator, each with its own AdamW.
 *
 * <p>Differences from the reference's Lightning loop, on purpose: the discriminator step judges the
 * reconstructions of the autoencoder step (detached) instead of running the autoencoder a second time, and
 * the discriminator's optimiser takes no (zero-gradient) steps before {@code disc_start}. Every random draw
 * (posterior noise) comes from one torch CPU generator seeded by the options, so a run is deterministic on the
 * CPU for a given thread count and {@link AutoencoderState} resumes it exactly. Not thread-safe.
 */
public final class AutoencoderTrainer {
    /** The key prefix of the autoencoder in SD single-file checkpoints, and in this trainer's files. */
    public static final String VAE = dev.ldm4j.model.Architecture.VAE;
    /** The key prefix of the discriminator (the reference's module path). */
    public static final String DISC = "loss.discriminator.";

    private static final Logger LOG = LoggerFactory.getLogger(AutoencoderTrainer.class);
    private static final double DISC_INIT_STD = 0.02;
    private static final String LAST_LAYER = VAE + "decoder.conv_out.weight";

    private final AutoencoderSpec spec;
    private final VaeTrainOptions options;
    private final AutoencoderKL vae;
    private final Map<String, Tensor> vaeParams;
    private final PatchDiscriminator disc;
    private final Map<String, Tensor> discParams;
    private final AdamWOptimizer vaeOptimizer;
    private final AdamWOptimizer discOptimizer;
    private final Generator generator;
    private long step;

    /**
     * A trainer whose networks take their parameters from the sources (keys under {@link #VAE} and
     * {@link #DISC}); the discriminator source is unused when the config has no adversarial term.
     */
    AutoencoderTrainer(AutoencoderSpec spec, VaeTrainOptions options, ParameterSource vaeSource,
                       ParameterSource discSource) {
        Torch.load();
        if (InferenceMode.is_enabled()) {
            throw new IllegalStateException("an autoencoder cannot be trained under InferenceMode");
        }
        this.spec = spec;
        this.options = options;
        this.vae = new AutoencoderKL(Weights.of(vaeSource, VAE), spec.vae());
        this.vaeParams = Collections.unmodifiableMap(new LinkedHashMap<>(vaeSource.taken()));
        if (spec.loss().discFactor() > 0) {
            this.disc = new PatchDiscriminator(Weights.of(discSource, DISC), spec.vae().inChannels(),
                    spec.loss().discChannels(), spec.loss().discLayers());
            this.discParams = Collections.unmodifiableMap(new LinkedHashMap<>(discSource.taken()));
        } else {
            this.disc = null;
            this.discParams = Map.of();
        }
        vaeParams.values().forEach(t -> t.requires_grad_(true));
        discParams.values().forEach(t -> t.requires_grad_(true));
        AdamWOptimizer.Settings s = new AdamWOptimizer.Settings(options.beta1(), options.beta2(), 1e-8,
                options.weightDecay());
        this.vaeOptimizer = new AdamWOptimizer(vaeParams, s);
        this.discOptimizer = new AdamWOptimizer(discParams, s);
        this.generator = Tensors.retain(torch.createCPUGenerator(options.seed()));
    }

    /** A new autoencoder (and discriminator) with random weights from {@code options.seed()}. */
    public static AutoencoderTrainer create(AutoencoderSpec spec, VaeTrainOptions options) {
        Torch.load();
        RandomSource vaeRandom = new RandomSource(options.seed(), ScalarType.Float);
        RandomSource discRandom = new RandomSource(options.seed() + 1, ScalarType.Float);
        AutoencoderTrainer t = new AutoencoderTrainer(spec, options, vaeRandom, discRandom);
        t.initialise(options.seed() + 2);
        LOG.info("autoencoder {}: {} parameters ({}); discriminator {} parameters", spec.vae(), count(t.vaeParams),
                "f=" + spec.vae().downscaleFactor(), count(t.discParams));
        return t;
    }

    /**
     * RandomSource draws kernels with std 1/sqrt(fan_in); PyTorch's default (what the reference trains from) is
     * uniform with std 1/sqrt(3 fan_in), and the discriminator uses pix2pix's N(0, 0.02) with BatchNorm
     * scales N(1, 0.02).
     */
    private void initialise(long seed) {
        Generator g = torch.createCPUGenerator(seed);
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Scalar third = Ops.s(1 / Math.sqrt(3));
            vaeParams.values().forEach(p -> {
                if (p.dim() >= 2) {
                    p.mul_(third);
                }
            });
            discParams.forEach((k, p) -> {
                if (p.dim() == 4) {
                    p.normal_(0, DISC_INIT_STD, new GeneratorOptional(g));
                } else if (k.endsWith(".weight")) {
                    p.normal_(1, DISC_INIT_STD, new GeneratorOptional(g));
                }
            });
        }
    }

    public AutoencoderSpec spec() {
        return spec;
    }

    public VaeTrainOptions options() {
        return options;
    }

    /** The autoencoder being trained (its parameters are live: results change as training goes on). */
    public AutoencoderKL autoencoder() {
        return vae;
    }

    /** The autoencoder's parameters by checkpoint key ({@code first_stage_model.*}), live. */
    public Map<String, Tensor> vaeParameters() {
        return vaeParams;
    }

    /** The discriminator's parameters ({@code loss.discriminator.*}), live; empty without one. */
    public Map<String, Tensor> discriminatorParameters() {
        return discParams;
    }

    /** Steps done; the next step is 0-based global step {@code steps()}. */
    public long steps() {
        return step;
    }

    AdamWOptimizer vaeOptimizer() {
        return vaeOptimizer;
    }

    AdamWOptimizer discOptimizer() {
        return discOptimizer;
    }

    /** Whether the step after {@code done} steps trains with the discriminator. */
    public boolean discriminatorOnAfter(long done) {
        return disc != null && spec.loss().discriminatorOn(done);
    }

    /** One optimisation step on images [B, 3, N, N] in [-1, 1] (float32). */
    public VaeStepResult step(Tensor images) {
        long t0 = System.nanoTime();
        boolean discOn = discriminatorOnAfter(step);
        LossConfig lc = spec.loss();
        double lr = options.learningRate();
        double lossValue;
        double rec;
        double kl;
        double gen = Double.NaN;
        double dLoss = Double.NaN;
        double dWeight = Double.NaN;
        try (PointerScope scope = new PointerScope()) {
            zeroGrads(vaeParams);
            long[] s = Tensors.shape(images);
            int f = spec.vae().downscaleFactor();
            Tensor eps = torch.randn(new long[] {s[0], spec.vae().embedDim(), s[2] / f, s[3] / f},
                    new GeneratorOptional(generator), Tensors.options(ScalarType.Float));
            Posterior post;
            Tensor xrec;
            try (Autocast a = Autocast.of(options.precision())) {
                post = Posterior.fromMoments(vae.moments(images).to(ScalarType.Float));
                xrec = vae.decode(post.mean().add(post.std().mul(eps))).to(ScalarType.Float);
            }
            Tensor recLoss = VaeLosses.reconstruction(images, xrec);
            Tensor klLoss = VaeLosses.kl(post);
            Tensor loss = recLoss.add(klLoss.mul(Ops.s(lc.klWeight())));
            if (discOn) {
                setRequiresGrad(discParams, false);
                Tensor fake;
                try (Autocast a = Autocast.of(options.precision())) {
                    fake = disc.forward(xrec).to(ScalarType.Float);
                }
                Tensor g = VaeLosses.generator(fake);
                dWeight = (lc.adaptiveWeight() ? adaptiveWeight(recLoss, g) : 1.0) * lc.discWeight() * lc.discFactor();
                loss = loss.add(g.mul(Ops.s(dWeight)));
                gen = g.item().toDouble();
            }
            loss.backward();
            lossValue = loss.item().toDouble();
            rec = recLoss.item().toDouble();
            kl = klLoss.item().toDouble();
            if (!Double.isFinite(lossValue)) {
                throw new IllegalStateException("the autoencoder loss of step " + (step + 1) + " is " + lossValue
                        + " (diverged: lower the learning rate)");
            }
            vaeOptimizer.step(lr);
            if (discOn) {
                setRequiresGrad(discParams, true);
                zeroGrads(discParams);
                Tensor fakeDetached = xrec.detach();
                Tensor real;
                Tensor fake;
                try (Autocast a = Autocast.of(options.precision())) {
                    real = disc.forward(images).to(ScalarType.Float);
                    fake = disc.forward(fakeDetached).to(ScalarType.Float);
                }
                Tensor d = VaeLosses.discriminator(real, fake, lc.discLoss()).mul(Ops.s(lc.discFactor()));
                d.backward();
                dLoss = d.item().toDouble();
                discOptimizer.step(lr);
            }
        }
        step++;
        return new VaeStepResult(step, lossValue, rec, kl, gen, dLoss, dWeight, lr, (int) Tensors.shape(images)[0],
                (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The reference's adaptive weight: |d rec / d W| / (|d gen / d W| + 1e-4) at the decoder's last
     * convolution W, clamped to [0, 1e4], so the adversarial gradient stays in proportion to the reconstruction's.
     */
    private double adaptiveWeight(Tensor rec, Tensor gen) {
        Tensor last = vaeParams.get(LAST_LAYER);
        TensorVector w = new TensorVector(last);
        // a TensorVector's get is a reference into the vector: read it while the vector is surely alive
        TensorVector recGrads = torch.grad(new TensorVector(rec), w, new TensorVector(), new BoolOptional(true), false,
                false);
        TensorVector genGrads = torch.grad(new TensorVector(gen), w, new TensorVector(), new BoolOptional(true), false,
                false);
        double r = recGrads.get(0).norm().item().toDouble();
        double g = genGrads.get(0).norm().item().toDouble();
        java.lang.ref.Reference.reachabilityFence(recGrads);
        java.lang.ref.Reference.reachabilityFence(genGrads);
        return Math.max(0, Math.min(1e4, r / (g + 1e-4)));
    }

    /**
     * Reconstructions of images [B, 3, N, N] through the posterior's mode, in float32 without a graph (what
     * the held-out PSNR is measured on).
     */
    public Tensor reconstruct(Tensor images) {
        try (NoGradGuard g = new NoGradGuard()) {
            return vae.decode(vae.encode(images).mode());
        }
    }

    private static void zeroGrads(Map<String, Tensor> params) {
        try (NoGradGuard g = new NoGradGuard()) {
            for (Tensor p : params.values()) {
                Tensor grad = p.grad();
                if (grad.defined()) {
                    grad.zero_();
                }
            }
        }
    }

    private static void setRequiresGrad(Map<String, Tensor> params, boolean on) {
        params.values().forEach(p -> p.requires_grad_(on));
    }

    /** The generator's state (a copy, uint8). */
    Tensor generatorState() {
        return generator.get_state();
    }

    /** Puts back what {@link AutoencoderState} saved (the parameters came in through the sources). */
    void restore(long steps, Tensor generatorState, long vaeAdamSteps, Map<String, Tensor> vaeM,
                 Map<String, Tensor> vaeV, long discAdamSteps, Map<String, Tensor> discM, Map<String, Tensor> discV) {
        generator.set_state(generatorState);
        vaeOptimizer.restore(vaeAdamSteps, vaeM, vaeV);
        discOptimizer.restore(discAdamSteps, discM, discV);
        this.step = steps;
    }

    static long count(Map<String, Tensor> params) {
        return params.values().stream().mapToLong(Tensor::numel).sum();
    }

    /** The config these weights were built for. */
    public VaeConfig config() {
        return spec.vae();
    }
}
