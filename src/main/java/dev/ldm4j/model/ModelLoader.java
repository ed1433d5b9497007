package dev.ldm4j.model;

import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.ComputeDevice;
import dev.ldm4j.nn.ParameterSource;
import dev.ldm4j.nn.Precision;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Torch;
import dev.ldm4j.nn.Weights;
import dev.ldm4j.sampling.NoiseSchedule;
import dev.ldm4j.text.ClipTokenizer;
import dev.ldm4j.text.TextEncoder;
import dev.ldm4j.text.TextualInversions;
import dev.ldm4j.unet.Conditioning;
import dev.ldm4j.unet.UNetModel;
import dev.ldm4j.vae.AutoencoderKL;
import dev.ldm4j.vae.TaesdDecoder;
import dev.ldm4j.vae.TaesdFiles;
import dev.ldm4j.vae.VaeConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads a single-file checkpoint as a {@link LatentDiffusionModel}: config from the YAML beside it (or given)
 * else detected, networks assembled by the config's {@link Architecture}, parameters read through the
 * options' patches, the VAE's encoder read on first use.
 */
public final class ModelLoader {
    private static final Logger LOG = LoggerFactory.getLogger(ModelLoader.class);

    private ModelLoader() {}

    /**
     * What to load. {@code config}, {@code vae} and {@code taesd} may be null; {@code precision} (UNet and text
     * encoder) null means {@link Precision#auto}; the VAE is float32 unless {@code vaePrecision} says otherwise.
     * {@code device} null means {@link ComputeDevice#auto()} (CUDA when this build has it and a GPU is visible).
     * {@code patches} change the parameters as they are read (applied in order).
     */
    public record Options(Path model, Path config, Path vae, Path taesd, Precision precision, Precision vaePrecision,
                          ComputeDevice device, List<ParameterPatch> patches, Path embeddings) {
        public Options {
            if (model == null) {
                throw new IllegalArgumentException("a model file is required");
            }
            vaePrecision = vaePrecision == null ? Precision.FP32 : vaePrecision;
            patches = patches == null ? List.of() : List.copyOf(patches);
        }

        public Options(Path model, Path config, Path vae, Path taesd, Precision precision, Precision vaePrecision,
                       ComputeDevice device, List<ParameterPatch> patches) {
            this(model, config, vae, taesd, precision, vaePrecision, device, patches, null);
        }

        public Options(Path model, Path config, Path vae, Path taesd) {
            this(model, config, vae, taesd, null, null, null, null, null);
        }

        public Options(Path model, Path config, Path vae, Path taesd, Precision precision, Precision vaePrecision) {
            this(model, config, vae, taesd, precision, vaePrecision, null, null, null);
        }

        public static Options of(Path model) {
            return new Options(model, null, null, null, null, null, null, null, null);
        }

        public Options withConfig(Path c) {
            return new Options(model, c, vae, taesd, precision, vaePrecision, device, patches, embeddings);
        }

        public Options withVae(Path v) {
            return new Options(model, config, v, taesd, precision, vaePrecision, device, patches, embeddings);
        }

        public Options withTaesd(Path t) {
            return new Options(model, config, vae, t, precision, vaePrecision, device, patches, embeddings);
        }

        public Options withPrecision(Precision p, Precision vaeP) {
            return new Options(model, config, vae, taesd, p, vaeP, device, patches, embeddings);
        }

        public Options withDevice(ComputeDevice d) {
            return new Options(model, config, vae, taesd, precision, vaePrecision, d, patches, embeddings);
        }

        public Options withPatch(ParameterPatch p) {
            List<ParameterPatch> all = new ArrayList<>(patches);
            all.add(p);
            return new Options(model, config, vae, taesd, precision, vaePrecision, device, all, embeddings);
        }

        /** Textual-inversion embeddings from the files under {@code dir} (null: none). */
        public Options withEmbeddings(Path dir) {
            return new Options(model, config, vae, taesd, precision, vaePrecision, device, patches, dir);
        }
    }

    /** The config of a checkpoint: from {@code yaml} when given (or beside it), else from its keys and shapes. */
    public static ModelConfig config(Path model, Path yaml) {
        try (ModelSource source = ModelSource.open(model, yaml)) {
            return source.config();
        }
    }

    public static LatentDiffusionModel load(Options o) {
        // the vocabulary (pure Java, 0.2-0.3 s) is parsed while libtorch loads and the weights are read
        CompletableFuture<ClipTokenizer> tokenizer = CompletableFuture.supplyAsync(ClipTokenizer::load);
        Torch.load();
        long t0 = System.nanoTime();
        ModelWeights weights = new ModelWeights();
        try (ModelSource source = ModelSource.open(o.model(), o.config());
             InferenceMode guard = new InferenceMode()) {
            SafetensorsFile f = source.file();
            Path yaml = source.yaml();
            if (yaml != null && o.config() == null) {
                LOG.info("using the config beside the checkpoint: {}", yaml);
            }
            ModelConfig config = source.config();
            Architecture arch = config.architecture();
            ComputeDevice device = o.device() != null ? o.device() : ComputeDevice.auto();
            Precision precision = o.precision() != null ? o.precision()
                    : Precision.auto(Architecture.paramCount(f, Architecture.UNET), device);
            CheckpointSource file = new CheckpointSource(f, precision.scalarType(), device);
            CheckpointSource vaeFile = new CheckpointSource(f, o.vaePrecision().scalarType(), device);
            Map<String, String> towers = arch.tokenEmbeddings(config);
            TextualInversions embeddings = o.embeddings() == null ? TextualInversions.NONE
                    : TextualInversions.load(o.embeddings(), joined(tokenizer), towerWidths(f, towers));
            ParameterSource src = TextualInversionPatch.of(embeddings, towers).apply(patched(file, config, o), config);
            ParameterSource vaeSrc = patched(vaeFile, config, o);
            TextEncoder text;
            UNetModel unet;
            AutoencoderKL vae;
            try {
                text = arch.textEncoder(src, config, f);
                unet = arch.unet(src, config);
                if (source.detected() && arch == Architecture.SD2 && !config.upscaler()) {
                    config = config.withVPrediction(predictsV(unet));
                }
                vae = o.vae() != null ? separateVae(o.vae(), config.vae(), o.vaePrecision(), device, weights)
                        : withLazyEncoder(f, vaeSrc, config, o, device, weights);
            } finally {
                weights.add(file.taken());
                weights.add(vaeFile.taken());
                weights.add(src.taken());
                weights.add(vaeSrc.taken());
                o.patches().forEach(ParameterPatch::release);
            }
            TaesdDecoder taesd = o.taesd() != null ? TaesdFiles.decoder(o.taesd()) : null;
            NoiseSchedule schedule = schedule(f, config).withAlignYourSteps(arch.alignYourSteps());
            Set<String> unused = new LinkedHashSet<>(f.keys());
            unused.removeAll(file.taken().keySet());
            unused.removeAll(vaeFile.taken().keySet());
            unused.removeIf(arch::expectedUnused);
            if (o.vae() == null) {
                unused.removeIf(Architecture::vaeEncoderKey);
            }
            String name = o.model().getFileName().toString().replaceFirst("\\.safetensors$", "");
            LOG.info("loaded {} as {} in {} s; unet and text encoder in {}, vae in {}{}", o.model().getFileName(),
                    config.describe(), String.format("%.1f", (System.nanoTime() - t0) / 1e9), precision.cliName(),
                    o.vaePrecision().cliName(), device == ComputeDevice.CPU ? "" : ", on " + device.cliName());
            if (!unused.isEmpty()) {
                LOG.warn("{} keys of {} were not used (e.g. {})", unused.size(), o.model().getFileName(),
                        unused.iterator().next());
            }
            Conditioner conditioner = arch.conditioner(text, config, joined(tokenizer), embeddings, device);
            return new LatentDiffusionModel(o.withPrecision(precision, o.vaePrecision()).withDevice(device), name,
                    config, new Networks(text, unet, vae), taesd, schedule, conditioner, embeddings, unused, weights);
        } catch (RuntimeException | Error e) {
            weights.free();
            throw e;
        }
    }

    /** Each tower's width, from its token-embedding table in the file; a tower the file lacks is left out. */
    private static Map<String, Integer> towerWidths(SafetensorsFile f, Map<String, String> towers) {
        Map<String, Integer> widths = new LinkedHashMap<>();
        towers.forEach((tower, key) -> {
            if (f.has(key) && f.info(key).shape().length == 2) {
                widths.put(tower, (int) f.info(key).shape()[1]);
            }
        });
        return widths;
    }

    private static ParameterSource patched(ParameterSource src, ModelConfig c, Options o) {
        ParameterSource s = src;
        for (ParameterPatch p : o.patches()) {
            s = p.apply(s, c);
        }
        return s;
    }

    private static ClipTokenizer joined(CompletableFuture<ClipTokenizer> tokenizer) {
        try {
            return tokenizer.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * The checkpoint's VAE with the encoder read from the file on first use (image-to-image); its keys and
     * shapes are checked now, from the header, so a broken file still fails at load.
     */
    private static AutoencoderKL withLazyEncoder(SafetensorsFile f, ParameterSource vaeSrc, ModelConfig c, Options o,
                                                 ComputeDevice device, ModelWeights weights) {
        KeyAudit audit = new KeyAudit(f);
        try (PointerScope scope = new PointerScope()) {
            AutoencoderKL.EncoderPart.of(Weights.of(audit, Architecture.VAE), c.vae());
        }
        List<String> problems = new ArrayList<>(audit.missing());
        problems.addAll(audit.misShaped());
        if (!problems.isEmpty()) {
            throw new ModelFileException(f.path() + ": VAE encoder: " + (audit.missing().isEmpty() ? "" : "missing key ")
                    + problems.get(0) + (problems.size() > 1 ? " (and " + (problems.size() - 1) + " more)" : ""));
        }
        Path path = f.path();
        return AutoencoderKL.withLazyEncoder(Weights.of(vaeSrc, Architecture.VAE), c.vae(), () -> {
            try (SafetensorsFile again = SafetensorsFile.open(path); InferenceMode guard = new InferenceMode()) {
                CheckpointSource file = new CheckpointSource(again, o.vaePrecision().scalarType(), device);
                ParameterSource patchedFile = patched(file, c, o);
                try {
                    return AutoencoderKL.EncoderPart.of(Weights.of(patchedFile, Architecture.VAE), c.vae());
                } finally {
                    weights.add(file.taken());
                    weights.add(patchedFile.taken());
                    o.patches().forEach(ParameterPatch::release);
                }
            }
        });
    }

    /** A standalone VAE file: keys under {@code first_stage_model.} or bare {@code encoder.}/{@code decoder.}. */
    private static AutoencoderKL separateVae(Path path, VaeConfig expected, Precision precision,
                                             ComputeDevice device, ModelWeights weights) {
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            String prefix = f.has(Architecture.VAE + "decoder.conv_in.weight") ? Architecture.VAE : "";
            if (!f.has(prefix + "decoder.conv_in.weight")) {
                throw new ModelFileException(path + ": not a VAE file (no decoder.conv_in.weight)");
            }
            VaeConfig c = VaeConfig.detect(f, prefix, expected.scaleFactor());
            CheckpointSource src = new CheckpointSource(f, precision.scalarType(), device);
            try {
                return new AutoencoderKL(Weights.of(src, prefix), c);
            } finally {
                weights.add(src.taken());
            }
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
}
