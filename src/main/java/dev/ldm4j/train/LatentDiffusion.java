package dev.ldm4j.train;

import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.model.Architecture;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.model.Networks;
import dev.ldm4j.model.UnsupportedModelException;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.ParameterSource;
import dev.ldm4j.nn.RandomSource;
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
import dev.ldm4j.unet.UNetModel;
import dev.ldm4j.vae.AutoencoderKL;
import dev.ldm4j.vae.VaeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The three networks of a latent diffusion model as training sees them: the UNet (always trained), the text
 * encoder (trained from scratch, frozen when fine-tuning unless asked) and the autoencoder (always frozen),
 * built with the same classes inference uses, from a {@link ParameterSource}. Parameters are float32 and
 * named by their single-file checkpoint keys; the trainable ones require gradients.
 */
public final class LatentDiffusion {
    public static final String UNET = Architecture.UNET;
    public static final String VAE = Architecture.VAE;
    static final String TEXT = Architecture.COND_STAGE;

    private static final Logger LOG = LoggerFactory.getLogger(LatentDiffusion.class);

    private final ModelConfig config;
    private final Map<String, Object> textModelConfig;
    private final UNetModel unet;
    private final TextEncoder text;
    private final AutoencoderKL vae;
    private final Map<String, Tensor> parameters;
    private final Map<String, Tensor> trainable;
    private final boolean textTrainable;
    private final ClipTokenizer tokenizer;
    private final ClipTokenizer.Style tokenStyle;

    private LatentDiffusion(ModelConfig config, Map<String, Object> textModelConfig, UNetModel unet,
                            TextEncoder text, AutoencoderKL vae, Map<String, Tensor> parameters,
                            boolean textTrainable, ClipTokenizer tokenizer) {
        this.config = config;
        this.textModelConfig = Collections.unmodifiableMap(new LinkedHashMap<>(textModelConfig));
        this.unet = unet;
        this.text = text;
        this.vae = vae;
        this.parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        this.textTrainable = textTrainable;
        Map<String, Tensor> t = new LinkedHashMap<>();
        parameters.forEach((k, v) -> {
            if (k.startsWith(UNET) || textTrainable && k.startsWith(TEXT)) {
                t.put(k, v);
            }
        });
        this.trainable = Collections.unmodifiableMap(t);
        this.tokenizer = tokenizer;
        this.tokenStyle = config.architecture().tokenStyle();
    }

    /**
     * A new model from {@code config}: UNet and text encoder with random weights from {@code seed} (the
     * UNet's output convolutions zeroed, as the reference initialises them), the text encoder trainable; the
     * autoencoder read from {@code vaeFile} (keys under {@code first_stage_model.} or bare
     * {@code encoder.}/{@code decoder.}), or random when null (useful only for tests).
     */
    public static LatentDiffusion fromScratch(ModelConfig config, long seed, Path vaeFile) {
        checkNotInference();
        RandomSource random = new RandomSource(seed, ScalarType.Float);
        Map<String, Tensor> params = new LinkedHashMap<>();
        Architecture arch = config.architecture();
        UNetModel unet = arch.unet(random, config);
        zeroOutputLayers(random.taken());
        TextEncoder text = arch.textEncoder(random, config, null);
        params.putAll(random.taken());
        AutoencoderKL vae;
        if (vaeFile != null) {
            vae = separateVae(vaeFile, config.vae(), params);
        } else {
            LOG.warn("no autoencoder file: the frozen autoencoder has random weights (only useful for tests)");
            RandomSource vaeRandom = new RandomSource(seed + 1, ScalarType.Float);
            vae = arch.vae(vaeRandom, config);
            params.putAll(vaeRandom.taken());
        }
        return assemble(config, text, unet, vae, params, true);
    }

    /**
     * The model of a single-file checkpoint, to fine-tune: UNet trainable, autoencoder frozen, text encoder
     * trainable only when {@code trainText}. {@code config} null detects the architecture from the file.
     *
     * @throws ModelFileException when the file is missing, broken, or its shapes do not match {@code config}
     */
    public static LatentDiffusion fromCheckpoint(Path file, ModelConfig config, boolean trainText) {
        checkNotInference();
        if (!Files.isRegularFile(file)) {
            throw new ModelFileException(file + (Files.exists(file) ? ": not a regular file" : ": no such file"));
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            ModelConfig c = config != null ? config : Architecture.detectConfig(f);
            CheckpointSource src = new CheckpointSource(f);
            Networks n;
            try {
                n = c.architecture().assemble(src, c, f);
            } catch (ModelFileException e) {
                throw new ModelFileException("the model config does not match " + file.getFileName() + ": "
                        + e.getMessage());
            }
            return assemble(c, n.text(), n.unet(), n.vae(), new LinkedHashMap<>(src.taken()), trainText);
        }
    }

    private static LatentDiffusion assemble(ModelConfig c, TextEncoder text, UNetModel unet, AutoencoderKL vae,
                                            Map<String, Tensor> params, boolean trainText) {
        if (c.unet().contextDim() != text.contextDim()) {
            throw new UnsupportedModelException("unet_config context_dim " + c.unet().contextDim()
                    + " does not match the text encoder's width " + text.contextDim());
        }
        if (c.unet().inChannels() != c.vae().embedDim() || c.unet().outChannels() != c.vae().embedDim()) {
            throw new UnsupportedModelException("training needs a text-to-image UNet whose in_channels and "
                    + "out_channels equal the autoencoder's embed_dim " + c.vae().embedDim() + "; got "
                    + c.unet().inChannels() + " and " + c.unet().outChannels());
        }
        LatentDiffusion m = new LatentDiffusion(c, text.textModelConfig(), unet, text, vae, params,
                trainText,
                ClipTokenizer.load());
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            e.getValue().requires_grad_(m.trainable.containsKey(e.getKey()));
        }
        LOG.info("model: UNet {} M parameters, text encoder {} M ({}), autoencoder {} M (frozen)",
                millions(m.count(UNET)), millions(m.count(TEXT)), trainText ? "trained" : "frozen",
                millions(m.count(VAE)));
        return m;
    }

    private static void checkNotInference() {
        Torch.load();
        if (InferenceMode.is_enabled()) {
            throw new IllegalStateException("a model to train cannot be built under InferenceMode");
        }
    }

    /**
     * Zeroes what the reference UNet creates with zero_module: the last convolution of every ResBlock, the
     * output projection of every spatial transformer, and the final convolution. Each residual branch then
     * starts as the identity and the first output as zero, which keeps a deep random UNet trainable.
     */
    private static void zeroOutputLayers(Map<String, Tensor> taken) {
        try (NoGradGuard g = new NoGradGuard()) {
            taken.forEach((k, t) -> {
                String local = k.substring(UNET.length());
                if (local.startsWith("out.2.") || local.contains(".out_layers.3.") || local.contains(".proj_out.")) {
                    t.zero_();
                }
            });
        }
    }

    /** A standalone autoencoder file: keys under {@code first_stage_model.} or bare {@code encoder.}/{@code decoder.}. */
    private static AutoencoderKL separateVae(Path path, VaeConfig expected, Map<String, Tensor> params) {
        if (!Files.isRegularFile(path)) {
            throw new ModelFileException(path + (Files.exists(path) ? ": not a regular file" : ": no such file"));
        }
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            String prefix = f.has(VAE + "decoder.conv_in.weight") ? VAE : "";
            if (!f.has(prefix + "decoder.conv_in.weight")) {
                throw new ModelFileException(path + ": not an autoencoder file (no decoder.conv_in.weight)");
            }
            CheckpointSource src = new CheckpointSource(f);
            AutoencoderKL vae;
            try {
                vae = new AutoencoderKL(Weights.of(src, prefix), expected);
            } catch (ModelFileException e) {
                throw new ModelFileException("first_stage_config does not match " + path.getFileName() + ": "
                        + e.getMessage());
            }
            src.taken().forEach((k, v) -> params.put(VAE + k.substring(prefix.length()), v));
            return vae;
        }
    }

    private long count(String prefix) {
        return parameters.entrySet().stream().filter(e -> e.getKey().startsWith(prefix))
                .mapToLong(e -> e.getValue().numel()).sum();
    }

    private static String millions(long n) {
        return String.format(java.util.Locale.ROOT, "%.2f", n / 1e6);
    }

    /** The same networks and weights under a config with another autoencoder scale factor. */
    LatentDiffusion withScaleFactor(double scale) {
        ModelConfig c = config.withVae(config.vae().withScaleFactor(scale));
        return new LatentDiffusion(c, textModelConfig, unet, text, vae, parameters, textTrainable, tokenizer);
    }

    /** The same networks and weights, predicting v (or eps). */
    public LatentDiffusion withPrediction(Prediction p) {
        return new LatentDiffusion(config.withVPrediction(p == Prediction.V), textModelConfig, unet, text, vae,
                parameters, textTrainable, tokenizer);
    }

    public ModelConfig config() {
        return config;
    }

    /** The text tower's sizes in the names of the LDM YAML's {@code text_model_config}. */
    public Map<String, Object> textModelConfig() {
        return textModelConfig;
    }

    public Prediction prediction() {
        return config.vPrediction() ? Prediction.V : Prediction.EPS;
    }

    /** The config's linear noise schedule. */
    public NoiseSchedule schedule() {
        return NoiseSchedule.linear(config.timesteps(), config.linearStart(), config.linearEnd());
    }

    public UNetModel unet() {
        return unet;
    }

    public TextEncoder textEncoder() {
        return text;
    }

    public AutoencoderKL vae() {
        return vae;
    }

    public boolean textTrainable() {
        return textTrainable;
    }

    /** Every parameter by checkpoint key, in the order the networks took them. */
    public Map<String, Tensor> parameters() {
        return parameters;
    }

    /** The parameters that training updates (they require gradients). */
    public Map<String, Tensor> trainable() {
        return trainable;
    }

    /** Token ids [B, 77] (int64) of captions, as the model's tokenizer style pads them. */
    public Tensor tokenize(List<String> captions) {
        int n = ClipTokenizer.CONTEXT_LENGTH;
        long[] ids = new long[captions.size() * n];
        for (int i = 0; i < captions.size(); i++) {
            System.arraycopy(tokenizer.inputIds(captions.get(i), tokenStyle), 0, ids, i * n, n);
        }
        return Tensors.fromLongs(ids, captions.size(), n);
    }

    /** Cross-attention context [B, 77, context_dim] of captions (with a graph when the text encoder trains). */
    public Tensor encodeCaptions(List<String> captions) {
        Tensor ids = tokenize(captions);
        if (textTrainable) {
            return text.encode(ids);
        }
        try (NoGradGuard g = new NoGradGuard()) {
            return text.encode(ids);
        }
    }
}
