package dev.ldm4j.train.vae;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.vae.VaeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * An autoencoder to train, in the structure of CompVis {@code configs/autoencoder/autoencoder_kl_*.yaml}:
 * {@code model.base_learning_rate}, {@code model.params.embed_dim}, {@code model.params.ddconfig} and
 * {@code model.params.lossconfig.params}. Everything else in the file (data, lightning) is ignored.
 *
 * @param vae              the architecture (scale factor 1: the diffusion trainer measures its own)
 * @param loss             the training objective
 * @param baseLearningRate per-example learning rate; the run's rate is this times the batch size, as the
 *                         reference's main.py scales it
 */
public record AutoencoderSpec(VaeConfig vae, LossConfig loss, double baseLearningRate) {
    private static final Logger LOG = LoggerFactory.getLogger(AutoencoderSpec.class);

    /** GroupNorm's group count in every autoencoder block: each level's width must divide by it. */
    static final int NORM_GROUPS = 32;

    public AutoencoderSpec {
        check(vae);
        if (!(baseLearningRate > 0)) {
            throw new BadRequestException("base_learning_rate must be positive, got " + baseLearningRate);
        }
    }

    /** Reads and checks an autoencoder YAML; every problem is a {@link BadRequestException} naming the file. */
    public static AutoencoderSpec read(Path yaml) {
        String text;
        try {
            text = Files.readString(yaml);
        } catch (NoSuchFileException e) {
            throw new BadRequestException(yaml + ": no such config file");
        } catch (IOException e) {
            throw new BadRequestException(yaml + ": cannot read config (" + e.getMessage() + ")");
        }
        try {
            return parse(text);
        } catch (BadRequestException e) {
            throw new BadRequestException(yaml + ": " + e.getMessage(), e);
        }
    }

    /** Parses the YAML text of an autoencoder config. */
    public static AutoencoderSpec parse(String text) {
        Object doc;
        try {
            doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
        } catch (YAMLException e) {
            throw new BadRequestException("not valid YAML (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (!(doc instanceof Map<?, ?> root)) {
            throw new BadRequestException("not an autoencoder config (no 'model' section)");
        }
        Map<?, ?> model = map(root, "model");
        Object target = model.get("target");
        if (target != null && !target.toString().endsWith("AutoencoderKL")) {
            throw new BadRequestException("model target '" + target
                    + "' is not a KL autoencoder (expected ldm.models.autoencoder.AutoencoderKL)");
        }
        double baseLr = number(model, "base_learning_rate", 4.5e-6);
        Map<?, ?> params = map(model, "params");
        int embedDim = (int) number(params, "embed_dim", Double.NaN);
        @SuppressWarnings("unchecked")
        Map<String, ?> dd = (Map<String, ?>) map(params, "ddconfig");
        VaeConfig vae;
        try {
            vae = VaeConfig.fromDdconfig(dd, embedDim, 1.0);
        } catch (IllegalArgumentException e) {
            // VaeConfig checks a checkpoint's config as well as this file's: here it is the user's file
            throw new BadRequestException(e.getMessage(), e);
        }
        Map<?, ?> lossParams = Map.of();
        Object lossConfig = params.get("lossconfig");
        if (lossConfig instanceof Map<?, ?> lc && lc.get("params") instanceof Map<?, ?> lp) {
            lossParams = lp;
        }
        double perceptual = number(lossParams, "perceptual_weight", 1.0);
        if (perceptual != 0) {
            LOG.warn("lossconfig perceptual_weight {} ignored: ldm4j trains without the LPIPS term", perceptual);
        }
        if (number(lossParams, "pixelloss_weight", 1.0) != 1.0 || number(lossParams, "logvar_init", 0.0) != 0.0) {
            LOG.warn("lossconfig pixelloss_weight / logvar_init ignored: the reconstruction term is plain L1");
        }
        Object discLoss = lossParams.get("disc_loss");
        LossConfig loss = new LossConfig(
                number(lossParams, "kl_weight", 1.0),
                (long) number(lossParams, "disc_start", Double.NaN),
                number(lossParams, "disc_weight", 1.0),
                number(lossParams, "disc_factor", 1.0),
                (int) number(lossParams, "disc_num_layers", 3),
                (int) number(lossParams, "disc_ndf", 64),
                discLoss == null ? "hinge" : discLoss.toString(),
                // an ldm4j key: the reference always uses the adaptive weight
                !Boolean.FALSE.equals(lossParams.get("disc_adaptive_weight")));
        return new AutoencoderSpec(vae, loss, baseLr);
    }

    /** This spec as an LDM autoencoder YAML that {@link #parse} reads back to an equal spec. */
    public String toYaml() {
        LossConfig l = loss;
        return String.join("\n",
                "model:",
                "  base_learning_rate: " + num(baseLearningRate),
                "  target: ldm.models.autoencoder.AutoencoderKL",
                "  params:",
                "    embed_dim: " + vae.embedDim(),
                "    lossconfig:",
                "      target: ldm.modules.losses.LPIPSWithDiscriminator",
                "      params:",
                "        disc_start: " + l.discStart(),
                "        kl_weight: " + num(l.klWeight()),
                "        disc_weight: " + num(l.discWeight()),
                "        disc_factor: " + num(l.discFactor()),
                "        disc_num_layers: " + l.discLayers(),
                "        disc_ndf: " + l.discChannels(),
                "        disc_loss: " + l.discLoss(),
                "        perceptual_weight: 0.0",
                "        disc_adaptive_weight: " + l.adaptiveWeight(),
                "    ddconfig:",
                "      double_z: true",
                "      z_channels: " + vae.zChannels(),
                "      resolution: " + vae.resolution(),
                "      in_channels: " + vae.inChannels(),
                "      out_ch: " + vae.outCh(),
                "      ch: " + vae.ch(),
                "      ch_mult: " + list(vae.chMult()),
                "      num_res_blocks: " + vae.numResBlocks(),
                "      attn_resolutions: " + list(vae.attnResolutions()),
                "      dropout: 0.0",
                "");
    }

    /** Checks that an image side suits the architecture and the discriminator. */
    public void checkImageSize(int size) {
        int f = vae.downscaleFactor();
        if (size < f || size % f != 0) {
            throw new BadRequestException("image size " + size + " is not a multiple of the autoencoder's "
                    + "downscale factor " + f + " (ch_mult " + Arrays.toString(vae.chMult()) + ")");
        }
        if (loss.discFactor() > 0 && PatchDiscriminator.patchesPerSide(size, loss.discLayers()) < 1) {
            throw new BadRequestException("image size " + size + " is too small for a discriminator of "
                    + loss.discLayers() + " layers (disc_num_layers): use fewer layers or larger images");
        }
    }

    private static void check(VaeConfig c) {
        if (c.inChannels() != 3 || c.outCh() != 3) {
            throw new BadRequestException("ddconfig in_channels and out_ch must be 3 (RGB images), got "
                    + c.inChannels() + " and " + c.outCh());
        }
        for (int i = 0; i < c.levels(); i++) {
            if (c.channels(i) % NORM_GROUPS != 0) {
                throw new BadRequestException("ddconfig ch " + c.ch() + " x ch_mult " + Arrays.toString(c.chMult())
                        + " gives " + c.channels(i) + " channels at level " + i + ": every level needs a multiple of "
                        + NORM_GROUPS + " (the autoencoder's GroupNorm groups)");
            }
        }
        if (c.embedDim() > c.zChannels() * 4 || c.zChannels() > 64) {
            // legal in principle, but almost surely a typo: a latent wider than the image it compresses
            LOG.warn("unusual latent: z_channels {}, embed_dim {}", c.zChannels(), c.embedDim());
        }
    }

    private static Map<?, ?> map(Map<?, ?> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof Map<?, ?> r)) {
            throw new BadRequestException("'" + key + "' is missing or not a map");
        }
        return r;
    }

    private static double number(Map<?, ?> m, String key, double dflt) {
        Object v = m.get(key);
        if (v == null) {
            if (Double.isNaN(dflt)) {
                throw new BadRequestException("missing '" + key + "'");
            }
            return dflt;
        }
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        // YAML 1.1 reads 4.5e-6 (no dot) as a string
        try {
            return Double.parseDouble(v.toString());
        } catch (NumberFormatException e) {
            throw new BadRequestException("'" + key + "' is not a number: " + v);
        }
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%s", v);
    }

    private static String list(int[] values) {
        return Arrays.stream(values).mapToObj(Integer::toString).collect(Collectors.joining(", ", "[", "]"));
    }

}
