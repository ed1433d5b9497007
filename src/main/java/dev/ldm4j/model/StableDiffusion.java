package dev.ldm4j.model;

import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.ComputeDevice;
import dev.ldm4j.nn.ParameterSource;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Torch;
import dev.ldm4j.nn.Weights;
import dev.ldm4j.sampling.NoiseSchedule;
import dev.ldm4j.sampling.Prediction;
import dev.ldm4j.text.ClipTextConfig;
import dev.ldm4j.text.ClipTextModel;
import dev.ldm4j.text.ClipTokenizer;
import dev.ldm4j.text.OpenClipLayer;
import dev.ldm4j.text.OpenClipTextConfig;
import dev.ldm4j.text.OpenClipTextModel;
import dev.ldm4j.text.TextEncoder;
import dev.ldm4j.text.WeightedPromptEncoder;
import dev.ldm4j.unet.Conditioning;
import dev.ldm4j.unet.UNetModel;
import dev.ldm4j.vae.AutoencoderKL;
import dev.ldm4j.vae.Posterior;
import dev.ldm4j.vae.TaesdDecoder;
import dev.ldm4j.vae.TaesdFiles;
import dev.ldm4j.vae.TiledDecode;
import dev.ldm4j.vae.VaeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A loaded Stable Diffusion checkpoint: tokenizer, text encoder, UNet, autoencoder (or TAESD) and noise
 * schedule. Weights are read once and shared; the object is immutable after {@link #load}, so concurrent
 * requests may use it (each with its own scopes and noise).
 */
public final class StableDiffusion {
    private static final Logger LOG = LoggerFactory.getLogger(StableDiffusion.class);

    /**
     * What to load. {@code config}, {@code vae} and {@code taesd} may be null; {@code precision} (UNet and text
     * encoder) null means {@link Precision#auto}; the VAE is float32 unless {@code vaePrecision} says otherwise.
     * {@code vaeTiling} null decodes in tiles only images larger than {@link #TILING_AUTO_PIXELS}.
     * {@code device} null means {@link ComputeDevice#auto()} (CUDA when this build has it and a GPU is visible).
     */
    public record Options(Path model, Path config, Path vae, Path taesd, Precision precision, Precision vaePrecision,
                          Boolean vaeTiling, ComputeDevice device) {
        public Options {
            if (model == null) {
                throw new IllegalArgumentException("a model file is required");
            }
            vaePrecision = vaePrecision == null ? Precision.FP32 : vaePrecision;
        }

        public Options(Path model, Path config, Path vae, Path taesd) {
            this(model, config, vae, taesd, null, null, null, null);
        }

        public Options(Path model, Path config, Path vae, Path taesd, Precision precision, Precision vaePrecision) {
            this(model, config, vae, taesd, precision, vaePrecision, null, null);
        }

        public static Options of(Path model) {
            return new Options(model, null, null, null);
        }

        public Options withPrecision(Precision p, Precision vaeP) {
            return new Options(model, config, vae, taesd, p, vaeP, vaeTiling, device);
        }

        public Options withDevice(ComputeDevice d) {
            return new Options(model, config, vae, taesd, precision, vaePrecision, vaeTiling, d);
        }
    }

    /** Images above this many pixels (1024 x 1024) are decoded in tiles unless tiling was switched off. */
    public static final long TILING_AUTO_PIXELS = 1024L * 1024;
    /** Latent tile and overlap: a 256-pixel tile keeps the decoder's activations near 0.5 GB in float32. */
    static final int TILE = 32;
    static final int TILE_OVERLAP = 8;

    private final Options options;
    private final String name;
    private final ModelConfig config;
    private final Object fallbackLock = new Object();
    private StableDiffusion fp32Fallback;
    private final WeightedPromptEncoder promptEncoder;
    private final TextEncoder text;
    private final UNetModel unet;
    private final AutoencoderKL vae;
    private final TaesdDecoder taesd;
    private final NoiseSchedule schedule;
    private final Set<String> unusedKeys;

    private StableDiffusion(Options options, String name, ModelConfig config, ClipTokenizer tokenizer, TextEncoder text, UNetModel unet,
                            AutoencoderKL vae, TaesdDecoder taesd, NoiseSchedule schedule, Set<String> unusedKeys) {
        this.options = options;
        this.name = name;
        this.config = config;
        this.promptEncoder = new WeightedPromptEncoder(tokenizer,
                config.textKind() == ModelConfig.TextKind.OPENCLIP ? ClipTokenizer.Style.SD2 : ClipTokenizer.Style.SD1);
        this.text = text;
        this.unet = unet;
        this.vae = vae;
        this.taesd = taesd;
        this.schedule = schedule;
        this.unusedKeys = unusedKeys;
    }

    public static StableDiffusion load(Options o) {
        // the vocabulary (pure Java, 0.2-0.3 s) is parsed while libtorch loads and the weights are read
        java.util.concurrent.CompletableFuture<ClipTokenizer> tokenizer =
                java.util.concurrent.CompletableFuture.supplyAsync(ClipTokenizer::load);
        Torch.load();
        long t0 = System.nanoTime();
        if (!Files.isRegularFile(o.model())) {
            throw new ModelFileException(o.model() + (Files.exists(o.model()) ? ": not a regular file" : ": no such file"));
        }
        try (SafetensorsFile f = SafetensorsFile.open(o.model());
             InferenceMode guard = new InferenceMode()) {
            Path yaml = ModelConfig.configFor(o.model(), o.config());
            if (yaml != null && o.config() == null) {
                LOG.info("using the config beside the checkpoint: {}", yaml);
            }
            ModelConfig config = yaml != null ? ModelConfig.fromYaml(yaml) : ModelDetector.detect(f);
            ComputeDevice device = o.device() != null ? o.device() : ComputeDevice.auto();
            Precision precision = o.precision() != null ? o.precision()
                    : Precision.auto(paramCount(f, ModelDetector.UNET), device);
            CheckpointSource src = new CheckpointSource(f, precision.scalarType(), device);
            CheckpointSource vaeSrc = new CheckpointSource(f, o.vaePrecision().scalarType(), device);
            TextEncoder text = textEncoder(src, f, config);
            UNetModel unet = new UNetModel(Weights.of(src, ModelDetector.UNET), config.unet());
            if (yaml == null && config.family() == ModelFamily.SD2) {
                config = config.withVPrediction(predictsV(unet));
            }
            AutoencoderKL vae = o.vae() != null ? separateVae(o.vae(), config.vae(), o.vaePrecision(), device)
                    : withLazyEncoder(f, vaeSrc, config.vae(), o.vaePrecision(), device);
            TaesdDecoder taesd = o.taesd() != null ? TaesdFiles.decoder(o.taesd()) : null;
            NoiseSchedule schedule = schedule(f, config);
            Set<String> unused = new LinkedHashSet<>(f.keys());
            unused.removeAll(src.taken().keySet());
            unused.removeAll(vaeSrc.taken().keySet());
            unused.removeIf(StableDiffusion::expectedUnused);
            if (o.vae() == null) {
                unused.removeIf(StableDiffusion::vaeEncoderKey);
            }
            String name = o.model().getFileName().toString().replaceFirst("\\.safetensors$", "");
            LOG.info("loaded {} as {} in {} s; unet and text encoder in {}, vae in {}{}", o.model().getFileName(),
                    config.describe(), String.format("%.1f", (System.nanoTime() - t0) / 1e9), precision.cliName(),
                    o.vaePrecision().cliName(), device == ComputeDevice.CPU ? "" : ", on " + device.cliName());
            if (!unused.isEmpty()) {
                LOG.warn("{} keys of {} were not used (e.g. {})", unused.size(), o.model().getFileName(),
                        unused.iterator().next());
            }
            return new StableDiffusion(o.withPrecision(precision, o.vaePrecision()).withDevice(device), name, config,
                    joined(tokenizer), text, unet, vae, taesd, schedule, unused);
        }
    }

    private static ClipTokenizer joined(java.util.concurrent.CompletableFuture<ClipTokenizer> tokenizer) {
        try {
            return tokenizer.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * The checkpoint's VAE with the encoder read from the file on first use (image-to-image); its keys and
     * shapes are checked now, from the header, so a broken file still fails at load.
     */
    private static AutoencoderKL withLazyEncoder(SafetensorsFile f, CheckpointSource vaeSrc, VaeConfig c,
            Precision p, ComputeDevice device) {
        KeyAudit audit = new KeyAudit(f);
        try (PointerScope scope = new PointerScope()) {
            AutoencoderKL.EncoderPart.of(Weights.of(audit, ModelDetector.VAE), c);
        }
        List<String> problems = new ArrayList<>(audit.missing());
        problems.addAll(audit.misShaped());
        if (!problems.isEmpty()) {
            throw new ModelFileException(f.path() + ": VAE encoder: " + (audit.missing().isEmpty() ? "" : "missing key ")
                    + problems.get(0) + (problems.size() > 1 ? " (and " + (problems.size() - 1) + " more)" : ""));
        }
        Path path = f.path();
        return AutoencoderKL.withLazyEncoder(Weights.of(vaeSrc, ModelDetector.VAE), c, () -> {
            try (SafetensorsFile again = SafetensorsFile.open(path); InferenceMode guard = new InferenceMode()) {
                return AutoencoderKL.EncoderPart.of(
                        Weights.of(new CheckpointSource(again, p.scalarType(), device), ModelDetector.VAE), c);
            }
        });
    }

    private static boolean vaeEncoderKey(String key) {
        return key.startsWith(ModelDetector.VAE + "encoder.") || key.startsWith(ModelDetector.VAE + "quant_conv.");
    }

    /** Buffers and heads that real checkpoints carry but inference does not need. */
    static boolean expectedUnused(String key) {
        return !key.startsWith(ModelDetector.UNET) && !key.startsWith(ModelDetector.VAE)
                && !key.startsWith("cond_stage_model.")
                || key.endsWith("embeddings.position_ids")
                || key.startsWith(ModelDetector.OPENCLIP) && (key.endsWith("text_projection") || key.endsWith("logit_scale"))
                || key.startsWith("model_ema.")
                || key.startsWith(ModelDetector.VAE + "loss.");
    }

    static TextEncoder textEncoder(ParameterSource src, SafetensorsFile f, ModelConfig c) {
        if (c.textKind() == ModelConfig.TextKind.CLIP) {
            ClipTextConfig tc = c.textModelConfig().isEmpty() ? ClipTextConfig.detect(f, ModelDetector.CLIP)
                    : ClipTextConfig.fromMap(c.textModelConfig());
            return new ClipTextModel(Weights.of(src, ModelDetector.CLIP), tc);
        }
        OpenClipTextConfig tc = c.textModelConfig().isEmpty() ? OpenClipTextConfig.detect(f, ModelDetector.OPENCLIP)
                : OpenClipTextConfig.fromMap(c.textModelConfig());
        return new OpenClipTextModel(Weights.of(src, ModelDetector.OPENCLIP), tc, OpenClipLayer.parse(c.textLayer()));
    }

    /** A standalone VAE file: keys under {@code first_stage_model.} or bare {@code encoder.}/{@code decoder.}. */
    static long paramCount(SafetensorsFile f, String prefix) {
        return f.keys().stream().filter(k -> k.startsWith(prefix)).mapToLong(k -> f.info(k).numel()).sum();
    }

    private static AutoencoderKL separateVae(Path path, VaeConfig expected, Precision precision,
            ComputeDevice device) {
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            String prefix = f.has(ModelDetector.VAE + "decoder.conv_in.weight") ? ModelDetector.VAE : "";
            if (!f.has(prefix + "decoder.conv_in.weight")) {
                throw new ModelFileException(path + ": not a VAE file (no decoder.conv_in.weight)");
            }
            VaeConfig c = VaeConfig.detect(f, prefix, expected.scaleFactor());
            return new AutoencoderKL(Weights.of(new CheckpointSource(f, precision.scalarType(), device), prefix), c);
        }
    }

    /**
     * The A1111 / stable-diffusion.cpp rule for SD 2.x checkpoints without a config: run the UNet once on
     * x = 0.5 at t = 999 with a context of 0.5s; v-models give an output far below x.
     */
    static boolean predictsV(UNetModel unet) {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.full(new long[] {1, unet.config().inChannels(), 8, 8}, new Scalar(0.5),
                    Tensors.options(ScalarType.Float));
            Tensor ctx = torch.full(new long[] {1, 2, unet.config().contextDim()}, new Scalar(0.5),
                    Tensors.options(ScalarType.Float));
            Tensor t = Tensors.fromFloats(new float[] {999f}, 1);
            double mean = unet.forward(x, t, Conditioning.crossAttn(ctx)).sub(x).mean().item().toDouble();
            boolean v = mean < -1;
            LOG.info("SD 2.x without a config: UNet probe mean(out - x) = {} -> {}-prediction",
                    String.format("%.3f", mean), v ? "v" : "eps");
            return v;
        }
    }

    /** The checkpoint's own alphas_cumprod when it carries one, else the config's linear schedule. */
    private static NoiseSchedule schedule(SafetensorsFile f, ModelConfig c) {
        if (f.has("alphas_cumprod") && f.info("alphas_cumprod").numel() == c.timesteps()) {
            return NoiseSchedule.fromAlphasCumprod(Tensors.toFloats(Tensors.readFloat(f, "alphas_cumprod")));
        }
        return NoiseSchedule.linear(c.timesteps(), c.linearStart(), c.linearEnd());
    }

    public String name() {
        return name;
    }

    public ModelConfig config() {
        return config;
    }

    public UNetModel unet() {
        return unet;
    }

    public AutoencoderKL vae() {
        return vae;
    }

    public NoiseSchedule schedule() {
        return schedule;
    }

    public Prediction prediction() {
        return config.vPrediction() ? Prediction.V : Prediction.EPS;
    }

    public Set<String> unusedKeys() {
        return unusedKeys;
    }

    /** Channels of the latent the sampler works on. */
    public int latentChannels() {
        return config.vae().embedDim();
    }

    public int downscaleFactor() {
        return vae.downscaleFactor();
    }

    /**
     * Text conditioning [B, 77 * k, context_dim] for each prompt, in AUTOMATIC1111's prompt syntax (weights in
     * brackets, BREAK, prompts longer than 75 tokens in 77-token chunks). {@code clipSkip} 0 uses the model's
     * own layer; k >= 1 is AUTOMATIC1111's CLIP skip (for OpenCLIP: 1 = last layer, 2 = penultimate).
     */
    public Tensor encodePrompts(List<String> prompts, int clipSkip) {
        UnaryOperator<Tensor> layer = WeightedPromptEncoder.layer(text, clipSkip);
        // the emphasis rescaling and everything after the encoder work in float32, whatever the encoder's dtype
        return promptEncoder.encodeBatch(prompts,
                ids -> ComputeDevice.toCpuFloat(layer.apply(device().to(ids, ScalarType.Long))));
    }

    /** The VAE posterior of images [B, 3, H, W] in [-1, 1], in float32 on the CPU whatever the VAE's dtype. */
    public Posterior encodeImage(Tensor image) {
        Posterior p = vae.encode(device().to(image, options.vaePrecision().scalarType()));
        return new Posterior(ComputeDevice.toCpuFloat(p.mean()), ComputeDevice.toCpuFloat(p.logvar()),
                ComputeDevice.toCpuFloat(p.std()));
    }

    /** Where the UNet, text encoder and VAE run. */
    public ComputeDevice device() {
        return options.device();
    }

    /** The precision the UNet and text encoder run in. */
    public Precision precision() {
        return options.precision();
    }

    /**
     * This model in float32, for requests whose half-precision run produced NaN or Inf: loaded on first use
     * from the same files, then kept.
     */
    public StableDiffusion float32() {
        if (options.precision() == Precision.FP32 && options.vaePrecision() == Precision.FP32) {
            return this;
        }
        synchronized (fallbackLock) {
            if (fp32Fallback == null) {
                fp32Fallback = load(options.withPrecision(Precision.FP32, Precision.FP32));
            }
            return fp32Fallback;
        }
    }

    /** Whether an image of {@code pixels} is decoded in tiles: as asked, or by default above {@link #TILING_AUTO_PIXELS}. */
    public static boolean decodesInTiles(Boolean vaeTiling, long pixels) {
        return vaeTiling != null ? vaeTiling : pixels > TILING_AUTO_PIXELS;
    }

    /**
     * The decoder's output [B, 3, H, W] in [-1, 1] for VAE latents {@code z} (already divided by the scale
     * factor), whole or in tiles of {@link #TILE}. Latents in and image out are float32 on the CPU, tiles too:
     * only the decoder runs on {@code device}, in {@code dtype}.
     */
    public static Tensor decodeOnDevice(AutoencoderKL vae, Tensor z, ComputeDevice device, ScalarType dtype,
                                        boolean tiled) {
        UnaryOperator<Tensor> decoder = zt -> ComputeDevice.toCpuFloat(vae.decode(device.to(zt, dtype)));
        return tiled ? TiledDecode.decode(decoder, z, vae.downscaleFactor(), TILE, TILE_OVERLAP) : decoder.apply(z);
    }

    /** Diffusion latents to images [B, 3, H, W] in [0, 1], by TAESD when one was loaded, else the VAE. */
    public Tensor decode(Tensor latent) {
        // The decode is the run's peak. The UNet steps' freed buffers may still sit in malloc's heap (the
        // launcher's glibc settings keep them there, for speed): hand them back to the kernel first.
        Pointer.trimMemory();
        Tensor img;
        if (taesd != null) {
            img = taesd.decode(latent);
        } else {
            int f = vae.downscaleFactor();
            boolean tiled = decodesInTiles(options.vaeTiling(), latent.size(2) * latent.size(3) * f * f);
            Tensor decoded = decodeOnDevice(vae, vae.fromDiffusion(latent), device(),
                    options.vaePrecision().scalarType(), tiled);
            img = decoded.add(new Scalar(1.0)).div(new Scalar(2.0));
        }
        return img.clamp(new org.bytedeco.pytorch.ScalarOptional(new Scalar(0.0)),
                new org.bytedeco.pytorch.ScalarOptional(new Scalar(1.0)));
    }
}
