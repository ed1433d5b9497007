package dev.ldm4j.model;

import dev.ldm4j.io.InputFiles;
import dev.ldm4j.io.WeightFiles;
import dev.ldm4j.unet.UNetConfig;
import dev.ldm4j.vae.VaeConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * What a latent diffusion checkpoint is: read from an LDM YAML config (the structure of CompVis
 * {@code v1-inference.yaml} / Stability {@code v2-inference-v.yaml}) or detected from the checkpoint's keys
 * and shapes ({@link Architecture#detectConfig}).
 *
 * @param architecture the family: checkpoint layout, text tower, how the networks are assembled
 * @param textLayer "last" or "penultimate" (SD 2.x conditions on the penultimate layer)
 * @param textModelConfig text tower hyper-parameters (HF CLIPTextConfig names for CLIP, open_clip names for
 *     OpenCLIP); empty means the real model's defaults or shapes detected from the checkpoint
 * @param vae the autoencoder, its scale factor included
 */
public record ModelConfig(
        Architecture architecture,
        boolean vPrediction,
        UNetConfig unet,
        String textLayer,
        Map<String, Object> textModelConfig,
        VaeConfig vae,
        double linearStart,
        double linearEnd,
        int timesteps) {

    /**
     * The config that goes with a checkpoint: {@code explicit} when given, else a YAML of the same name beside
     * it ({@code model.safetensors} -> {@code model.yaml}, the AUTOMATIC1111 convention; ldm4j's trainers write
     * one), else null (detect from the checkpoint).
     */
    public static Path configFor(Path checkpoint, Path explicit) {
        if (explicit != null) {
            return explicit;
        }
        Path beside = checkpoint.resolveSibling(InputFiles.stem(checkpoint) + ".yaml");
        if (Files.isRegularFile(beside)) {
            return beside;
        }
        // a model folder of its own: model.safetensors with config.yaml (ldm4j's fixtures, many downloads)
        Path folderConfig = checkpoint.resolveSibling("config.yaml");
        return Files.isRegularFile(folderConfig) && Files.isRegularFile(checkpoint)
                && onlyCheckpointIn(checkpoint.toAbsolutePath().getParent()) ? folderConfig : null;
    }

    /** Whether {@code dir} holds a single weight file (so a config.yaml there can only be its). */
    private static boolean onlyCheckpointIn(Path dir) {
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            return files.filter(WeightFiles::is).limit(2).count() == 1;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * The image size a config recommends, from its top-level {@code ldm4j.image_size} (outside {@code model:},
     * so CompVis scripts ignore it): the size a small model was trained at, where the 512 default of Stable
     * Diffusion would give noise. Empty when the file has none or cannot be read (loading reports that).
     */
    public static java.util.OptionalInt recommendedImageSize(Path yaml) {
        if (yaml == null || !Files.isRegularFile(yaml)) {
            return java.util.OptionalInt.empty();
        }
        try (Reader r = Files.newBufferedReader(yaml)) {
            Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
            if (doc instanceof Map<?, ?> m && m.get("ldm4j") instanceof Map<?, ?> l
                    && l.get("image_size") instanceof Integer size && size > 0) {
                return java.util.OptionalInt.of(size);
            }
        } catch (java.io.IOException | RuntimeException e) {
            // fromYaml gives the real error when the model is loaded
        }
        return java.util.OptionalInt.empty();
    }

    public static ModelConfig fromYaml(Path path) {
        InputFiles.problem(path).ifPresent(why -> {
            throw new UnsupportedModelException(path + ": " + (why.equals("no such file") ? "no such config file" : why));
        });
        Map<String, Object> root;
        try (Reader r = Files.newBufferedReader(path)) {
            Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
            if (!(doc instanceof Map)) {
                throw new UnsupportedModelException(path + ": not an LDM config (no 'model' section)");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) doc;
            root = m;
        } catch (NoSuchFileException e) {
            throw new UnsupportedModelException(path + ": no such config file");
        } catch (IOException e) {
            throw new UnsupportedModelException(path + ": cannot read config (" + e.getMessage() + ")");
        } catch (YAMLException e) {
            throw new UnsupportedModelException(path + ": not valid YAML (" + e.getMessage().lines().findFirst()
                    .orElse("") + ")");
        }
        return fromMap(root, path.toString());
    }

    static ModelConfig fromMap(Map<String, Object> root, String source) {
        YamlMaps y = new YamlMaps(source);
        Map<String, Object> model = y.map(root, "model");
        String target = y.string(model, "target", "");
        if (target.endsWith(".DiffusionEngine")) {
            return checked(SdxlArchitecture.fromSgm(y, model, source), source);
        }
        boolean inpaintTarget = target.endsWith(".LatentInpaintDiffusion");
        boolean upscaleTarget = target.endsWith(".LatentUpscaleDiffusion");
        if (!target.endsWith("LatentDiffusion") && !inpaintTarget && !upscaleTarget) {
            throw new UnsupportedModelException(source + ": model target '" + target + "' is not supported "
                    + "(expected ldm.models.diffusion.ddpm.LatentDiffusion, LatentInpaintDiffusion or "
                    + "LatentUpscaleDiffusion)");
        }
        Map<String, Object> p = y.map(model, "params");
        String conditioning = y.string(p, "conditioning_key", "crossattn");
        // hybrid = concat + cross-attention; the only concat inputs ldm4j builds are the inpainting model's
        String expected = inpaintTarget ? "hybrid" : upscaleTarget ? "hybrid-adm" : "crossattn";
        if (!conditioning.equals(expected)) {
            throw new UnsupportedModelException(source + ": conditioning_key '" + conditioning + "' with target '"
                    + target + "' is not supported (" + expected + " expected)");
        }
        boolean v = y.string(p, "parameterization", "eps").equals("v");

        Map<String, Object> up = y.map(y.map(p, "unet_config"), "params");
        if (!y.bool(up, "use_spatial_transformer", true)) {
            throw new UnsupportedModelException(source + ": UNets without spatial transformers are not supported");
        }
        UNetConfig unet;
        try {
            unet = new UNetConfig(
                    y.integer(up, "in_channels", 4),
                    y.integer(up, "out_channels", 4),
                    y.integer(up, "model_channels", 320),
                    y.ints(up, "attention_resolutions", new int[0]),
                    y.integer(up, "num_res_blocks", 2),
                    y.ints(up, "channel_mult", new int[] {1, 2, 4, 4}),
                    y.integer(up, "num_heads", -1),
                    y.integer(up, "num_head_channels", -1),
                    y.ints(up, "transformer_depth", new int[] {1}),
                    y.integer(up, "context_dim", 768),
                    y.bool(up, "use_linear_in_transformer", false),
                    y.bool(up, "legacy", true),
                    y.bools(up, "disable_self_attentions"),
                    y.integer(up, "num_classes", 0));
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException(source + ": unet_config: " + e.getMessage());
        }

        Map<String, Object> fs = y.map(p, "first_stage_config");
        Map<String, Object> fsp = y.map(fs, "params");
        Map<String, Object> dd = y.map(fsp, "ddconfig");

        Map<String, Object> cs = y.map(p, "cond_stage_config");
        Architecture architecture = Architecture.forCondStage(y.string(cs, "target", ""), source);
        // SD 1.x's FrozenCLIPEmbedder has no layer parameter; FrozenOpenCLIPEmbedder defaults to "last"
        String layer = architecture == Architecture.SD1 ? "last" : y.string(y.mapOrEmpty(cs, "params"), "layer", "last");
        VaeConfig vae;
        try {
            vae = VaeConfig.fromDdconfig(dd, y.integer(fsp, "embed_dim", 4), y.number(p, "scale_factor", 1.0));
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException(source + ": first_stage_config: " + e.getMessage());
        }
        ModelConfig c = checked(new ModelConfig(architecture, v, unet, layer, y.mapOrEmpty(cs, "text_model_config"),
                vae, y.number(p, "linear_start", 0.00085), y.number(p, "linear_end", 0.012),
                y.integer(p, "timesteps", 1000)), source);
        if (upscaleTarget != c.upscaler()) {
            throw new UnsupportedModelException(source + ": target '" + target + "' with a UNet of in_channels "
                    + unet.inChannels() + " and num_classes " + unet.numClasses() + " is not supported (the x4 "
                    + "upscaler's UNet takes the latent and the 3-channel low-resolution image, and a noise-level class)");
        }
        if (inpaintTarget != c.inpainting()) {
            throw new UnsupportedModelException(source + ": target '" + target + "' with a UNet of in_channels "
                    + unet.inChannels() + " is not supported (an inpainting UNet takes " + c.inpaintingChannels()
                    + ": latent, mask, masked-image latent)");
        }
        return c;
    }

    /** {@code c} when its schedule and scale factor are in range (a YAML may say anything). */
    private static ModelConfig checked(ModelConfig c, String source) {
        if (!(c.linearStart() > 0 && c.linearStart() < c.linearEnd() && c.linearEnd() < 1)) {
            throw new UnsupportedModelException(source + ": linear_start " + c.linearStart() + " and linear_end "
                    + c.linearEnd() + " must satisfy 0 < linear_start < linear_end < 1");
        }
        if (c.timesteps() < 2 || c.timesteps() > 100_000) {
            throw new UnsupportedModelException(source + ": timesteps " + c.timesteps() + " is not in 2..100000");
        }
        if (!(c.vae().scaleFactor() > 0)) {
            throw new UnsupportedModelException(source + ": scale_factor " + c.vae().scaleFactor()
                    + " must be positive");
        }
        return c;
    }

    /**
     * Whether this is an inpainting model (runwayml LatentInpaintDiffusion, sd-v1-5-inpainting and kin): its UNet
     * takes the noisy latent, the mask at latent size and the masked image's latent, concatenated along the
     * channels. Told by the UNet's input width, as AUTOMATIC1111 and stable-diffusion.cpp do.
     */
    public boolean inpainting() {
        return unet.inChannels() == inpaintingChannels();
    }

    /**
     * Whether this is an x4 upscaler (Stability's LatentUpscaleDiffusion, stable-diffusion-x4-upscaler): its UNet
     * takes the latent and the noised low-resolution image (3 channels, image space), and the noise level as a
     * class label.
     */
    public boolean upscaler() {
        return unet.numClasses() > 0 && unet.inChannels() == vae.embedDim() + 3;
    }

    /** UNet input channels of an inpainting model: latent + 1 (mask) + latent. */
    int inpaintingChannels() {
        return 2 * vae.embedDim() + 1;
    }

    public ModelConfig withVPrediction(boolean v) {
        return new ModelConfig(architecture, v, unet, textLayer, textModelConfig, vae, linearStart, linearEnd,
                timesteps);
    }

    public ModelConfig withVae(VaeConfig v) {
        return new ModelConfig(architecture, vPrediction, unet, textLayer, textModelConfig, v, linearStart, linearEnd,
                timesteps);
    }

    /** A one-line description for logs and {@code ldm4j info}. */
    public String describe() {
        return architecture.label() + (inpainting() ? " inpainting" : "") + " (" + architecture.name(this) + ", "
                + (vPrediction ? "v" : "eps") + "-prediction, " + textLayer + " text layer, "
                + "scale_factor " + vae.scaleFactor() + ")";
    }
}
