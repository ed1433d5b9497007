package dev.ldm4j.model;

import dev.ldm4j.nn.ComputeDevice;
import dev.ldm4j.nn.Precision;
import dev.ldm4j.sampling.NoiseSchedule;
import dev.ldm4j.sampling.Prediction;
import dev.ldm4j.text.TextualInversions;
import dev.ldm4j.unet.UNetModel;
import dev.ldm4j.vae.AutoencoderKL;
import dev.ldm4j.vae.Posterior;
import dev.ldm4j.vae.TaesdDecoder;
import dev.ldm4j.vae.TiledDecode;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A loaded latent diffusion model: its networks, noise schedule and conditioner, made by {@link ModelLoader}.
 * Immutable, so concurrent requests may share it (each with its own scopes and noise). {@link #close()} frees
 * the weights' native memory at once (a server that swaps models does not wait for the GC); a closed model
 * refuses to be used, and it must not be closed while a request is still running on it.
 */
public final class LatentDiffusionModel implements AutoCloseable {
    private final ModelLoader.Options options;
    private final String name;
    private final ModelConfig config;
    private final Networks networks;
    private final TaesdDecoder taesd;
    private final NoiseSchedule schedule;
    private final Conditioner conditioner;
    private final Set<String> unusedKeys;
    private final ModelWeights weights;
    private final Object fallbackLock = new Object();
    private LatentDiffusionModel fp32Fallback;
    private volatile boolean closed;
    private final TextualInversions embeddings;

    LatentDiffusionModel(ModelLoader.Options options, String name, ModelConfig config, Networks networks,
                         TaesdDecoder taesd, NoiseSchedule schedule, Conditioner conditioner,
                         TextualInversions embeddings, Set<String> unusedKeys, ModelWeights weights) {
        this.embeddings = embeddings;
        this.options = options;
        this.name = name;
        this.config = config;
        this.networks = networks;
        this.taesd = taesd;
        this.schedule = schedule;
        this.conditioner = conditioner;
        this.unusedKeys = Set.copyOf(unusedKeys);
        this.weights = weights;
    }

    /** The checkpoint's file name without {@code .safetensors}, as AUTOMATIC1111's "Model:" field shows it. */
    public String name() {
        return name;
    }

    public ModelConfig config() {
        return config;
    }

    public Architecture architecture() {
        return config.architecture();
    }

    public UNetModel unet() {
        checkOpen();
        return networks.unet();
    }

    public AutoencoderKL vae() {
        checkOpen();
        return networks.vae();
    }

    /** The textual-inversion embeddings its prompts can use (and those found but skipped). */
    public TextualInversions embeddings() {
        return embeddings;
    }

    public Conditioner conditioner() {
        checkOpen();
        return conditioner;
    }

    public NoiseSchedule schedule() {
        return schedule;
    }

    public Prediction prediction() {
        return config.vPrediction() ? Prediction.V : Prediction.EPS;
    }

    /** Keys of the checkpoint no network took (buffers and heads that real checkpoints carry are not counted). */
    public Set<String> unusedKeys() {
        return unusedKeys;
    }

    /** Channels of the latent the sampler works on. */
    public int latentChannels() {
        return config.vae().embedDim();
    }

    public int downscaleFactor() {
        return networks.vae().downscaleFactor();
    }

    /** How this model was loaded: what a reload of the same model (or another with the same settings) takes. */
    public ModelLoader.Options options() {
        return options;
    }

    /** Where the UNet, text encoder and VAE run. */
    public ComputeDevice device() {
        return options.device();
    }

    /** The precision the UNet and text encoder run in. */
    public Precision precision() {
        return options.precision();
    }

    public Precision vaePrecision() {
        return options.vaePrecision();
    }

    /** Text conditioning [B, 77 * k, context_dim] of prompts; see {@link Conditioner#encodePrompts}. */
    public Tensor encodePrompts(List<String> prompts, int clipSkip) {
        return conditioner().encodePrompts(prompts, clipSkip);
    }

    /** The VAE posterior of images [B, 3, H, W] in [-1, 1], in float32 on the CPU whatever the VAE's dtype. */
    public Posterior encodeImage(Tensor image) {
        Posterior p = vae().encode(device().to(image, options.vaePrecision().scalarType()));
        return new Posterior(ComputeDevice.toCpuFloat(p.mean()), ComputeDevice.toCpuFloat(p.logvar()),
                ComputeDevice.toCpuFloat(p.std()));
    }

    /**
     * This model in float32, for requests whose half-precision run produced NaN or Inf: loaded on first use
     * from the same files, then kept, and closed with this one.
     */
    public LatentDiffusionModel float32() {
        checkOpen();
        if (options.precision() == Precision.FP32 && options.vaePrecision() == Precision.FP32) {
            return this;
        }
        synchronized (fallbackLock) {
            if (fp32Fallback == null) {
                fp32Fallback = ModelLoader.load(options.withPrecision(Precision.FP32, Precision.FP32));
            }
            return fp32Fallback;
        }
    }

    /**
     * The decoder's output [B, 3, H, W] in [-1, 1] for VAE latents {@code z} (already divided by the scale
     * factor), whole or in tiles. Latents in and image out are float32 on the CPU, tiles too: only the decoder
     * runs on {@code device}, in {@code dtype}.
     */
    public static Tensor decodeOnDevice(AutoencoderKL vae, Tensor z, ComputeDevice device, ScalarType dtype,
                                        boolean tiled) {
        UnaryOperator<Tensor> decoder = zt -> ComputeDevice.toCpuFloat(vae.decode(device.to(zt, dtype)));
        return tiled ? TiledDecode.decode(decoder, z, vae.downscaleFactor()) : decoder.apply(z);
    }

    /**
     * Diffusion latents to images [B, 3, H, W] in [0, 1], by TAESD when one was loaded, else the VAE, in tiles
     * when {@code tiled}.
     */
    public Tensor decode(Tensor latent, boolean tiled) {
        checkOpen();
        // The decode is the run's peak. The UNet steps' freed buffers may still sit in malloc's heap (the
        // launcher's glibc settings keep them there, for speed): hand them back to the kernel first.
        Pointer.trimMemory();
        Tensor img;
        if (taesd != null) {
            img = taesd.decode(latent);
        } else {
            AutoencoderKL vae = networks.vae();
            Tensor decoded = decodeOnDevice(vae, vae.fromDiffusion(latent), device(),
                    options.vaePrecision().scalarType(), tiled);
            img = decoded.add(new Scalar(1.0)).div(new Scalar(2.0));
        }
        return img.clamp(new ScalarOptional(new Scalar(0.0)), new ScalarOptional(new Scalar(1.0)));
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the model " + name + " was closed");
        }
    }

    /** Frees the weights (and those of the float32 copy, if one was loaded). Idempotent. */
    @Override
    public void close() {
        synchronized (fallbackLock) {
            if (closed) {
                return;
            }
            closed = true;
            if (fp32Fallback != null) {
                fp32Fallback.close();
            }
        }
        try (PointerScope scope = new PointerScope()) {
            weights.free();
        }
    }
}
