package dev.ldm4j.model;

import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.ParameterSource;
import dev.ldm4j.sampling.AlignYourSteps;
import dev.ldm4j.text.ClipTokenizer;
import dev.ldm4j.text.PromptChunker;
import dev.ldm4j.text.TextualInversions;
import dev.ldm4j.text.TextEncoder;
import dev.ldm4j.unet.UNetModel;
import dev.ldm4j.vae.AutoencoderKL;
import java.util.List;
import java.util.Map;

/**
 * A model family: its checkpoint layout (the key prefixes live here and nowhere else), how it recognises a
 * checkpoint, how it reads its config from YAML or tensor shapes, and how it assembles its networks from any
 * {@link ParameterSource}. Loading, training, {@code ldm4j info} and {@code ldm4j bench} all assemble through
 * it, so a model is built the same way wherever it is used. Inpainting models (a UNet that takes the mask and
 * the masked image's latent as extra input channels) belong to their family; {@link #name(ModelConfig)} tells
 * them apart, as AUTOMATIC1111 and stable-diffusion.cpp tell them by the UNet's input width.
 */
public interface Architecture {
    /** The UNet's keys in a single-file (CompVis) checkpoint. */
    String UNET = "model.diffusion_model.";
    /** The autoencoder's keys. */
    String VAE = "first_stage_model.";
    /** The conditioning encoder's keys (the text tower below it depends on the family). */
    String COND_STAGE = "cond_stage_model.";

    /** SD 1.x: OpenAI CLIP ViT-L/14, last layer, 8 heads per transformer. */
    Architecture SD1 = new Sd1Architecture();
    /** SD 2.x: OpenCLIP ViT-H/14, penultimate layer, 64 channels per head, linear projections. */
    Architecture SD2 = new Sd2Architecture();
    /** SDXL: CLIP ViT-L and OpenCLIP ViT-bigG, pooled text and size conditioning. */
    Architecture SDXL = new SdxlArchitecture();

    /** Every family ldm4j can load, in the order a checkpoint is matched against them. */
    List<Architecture> ALL = List.of(SD1, SD2, SDXL);

    /** A short name: sd1, sd2. */
    String name();

    /** The name a user reads: SD 1.x, SD 2.x. */
    String label();

    /** The name of one model: the family's, with {@code -inpaint} for an inpainting UNet (sd1-inpaint). */
    default String name(ModelConfig c) {
        return name() + (c.inpainting() ? "-inpaint" : "");
    }

    /** Where the text tower's keys start. */
    String textPrefix();

    /** The text layer the family conditions on by default ("last", "penultimate"). */
    String defaultTextLayer();

    /** How prompts are padded for this family's text tower. */
    ClipTokenizer.Style tokenStyle();

    /** Whether a checkpoint's keys are this family's. */
    boolean recognises(SafetensorsFile f);

    /** Whether an LDM YAML's {@code cond_stage_config.target} names this family's text tower. */
    boolean readsCondStage(String target);

    /** The config of a checkpoint of this family, read from its tensor shapes. */
    ModelConfig detect(SafetensorsFile f);

    /** The released model's config (full size, eps-prediction), for benchmarks without a file. */
    ModelConfig reference();

    /** The text tower of {@code c}; its sizes from the config's text_model_config, else from {@code shapes}. */
    TextEncoder textEncoder(ParameterSource src, ModelConfig c, SafetensorsFile shapes);

    /**
     * The token-embedding table of each text tower, by the tower's key in textual-inversion files
     * ({@link dev.ldm4j.text.TextualInversion#ONE_TOWER} for a family with one tower).
     */
    Map<String, String> tokenEmbeddings(ModelConfig c);

    /** The YAML {@code cond_stage_config} (target and params) of a model of this family. */
    Map<String, Object> condStageConfig(ModelConfig c, Map<String, Object> textModelConfig);

    /** The Align Your Steps table made for this family (AUTOMATIC1111 gives every family but SDXL SD 1.5's). */
    default AlignYourSteps alignYourSteps() {
        return AlignYourSteps.SD1;
    }

    default UNetModel unet(ParameterSource src, ModelConfig c) {
        return new UNetModel(dev.ldm4j.nn.Weights.of(src, UNET), c.unet());
    }

    default AutoencoderKL vae(ParameterSource src, ModelConfig c) {
        return new AutoencoderKL(dev.ldm4j.nn.Weights.of(src, VAE), c.vae());
    }

    /** Prompts and request inputs to the UNet's conditioning, for this family's text tower. */
    default Conditioner conditioner(TextEncoder text, ModelConfig c, ClipTokenizer tokenizer,
                                    TextualInversions embeddings, dev.ldm4j.nn.ComputeDevice device) {
        return new TextConditioner(text, new PromptChunker(tokenizer, tokenStyle(), embeddings), device);
    }

    /** The three networks of {@code c} from one source. */
    default Networks assemble(ParameterSource src, ModelConfig c, SafetensorsFile shapes) {
        return new Networks(textEncoder(src, c, shapes), unet(src, c), vae(src, c));
    }

    /** Which network a checkpoint key belongs to: unet, vae, text encoder, or other. */
    default String component(String key) {
        return key.startsWith(UNET) ? "unet" : key.startsWith(VAE) ? "vae"
                : key.startsWith(COND_STAGE) ? "text encoder" : "other";
    }

    /** Buffers and heads that real checkpoints carry but inference does not need. */
    default boolean expectedUnused(String key) {
        return component(key).equals("other")
                || key.endsWith("embeddings.position_ids")
                || key.startsWith("model_ema.")
                || key.startsWith(VAE + "loss.");
    }

    /** Whether {@code key} belongs to the VAE's encoder half (unused by text-to-image). */
    static boolean vaeEncoderKey(String key) {
        return key.startsWith(VAE + "encoder.") || key.startsWith(VAE + "quant_conv.");
    }

    /** The family of a short name (sd1, sd2, sdxl). */
    static Architecture byName(String name) {
        String key = name == null ? "" : name.trim().toLowerCase(java.util.Locale.ROOT);
        return ALL.stream().filter(a -> a.name().equals(key)).findFirst().orElseThrow(() ->
                new dev.ldm4j.io.BadRequestException("unknown architecture '" + name + "' ("
                        + String.join(", ", ALL.stream().map(Architecture::name).toList()) + ")"));
    }

    /** The family that reads an LDM YAML's text tower {@code target}. */
    static Architecture forCondStage(String target, String source) {
        return ALL.stream().filter(a -> a.readsCondStage(target)).findFirst().orElseThrow(() ->
                new UnsupportedModelException(source + ": text encoder '" + target + "' is not supported "
                        + "(FrozenCLIPEmbedder for SD 1.x, FrozenOpenCLIPEmbedder for SD 2.x)"));
    }

    /** The config of a checkpoint without YAML: its family from its keys, the rest from its shapes. */
    static ModelConfig detectConfig(SafetensorsFile f) {
        for (Architecture a : ALL) {
            if (a.recognises(f)) {
                return a.detect(f);
            }
        }
        if (f.keys().stream().anyMatch(k -> k.startsWith("conditioner.embedders."))) {
            throw new UnsupportedModelException(f.path() + ": an SGM-layout checkpoint whose text encoders are not "
                    + "SDXL's (CLIP ViT-L and OpenCLIP ViT-bigG)");
        }
        if (!f.has(UNET + "input_blocks.0.0.weight")) {
            throw new UnsupportedModelException(f.path() + ": not a Stable Diffusion checkpoint (no " + UNET + "* keys)");
        }
        throw new UnsupportedModelException(f.path() + ": unknown text encoder (neither "
                + SD1.textPrefix() + "* nor " + SD2.textPrefix() + "* keys)");
    }

    /** The number of parameters a checkpoint holds below {@code prefix}. */
    static long paramCount(SafetensorsFile f, String prefix) {
        return f.keys().stream().filter(k -> k.startsWith(prefix)).mapToLong(k -> f.info(k).numel()).sum();
    }
}
