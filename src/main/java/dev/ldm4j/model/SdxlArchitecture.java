package dev.ldm4j.model;

import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.ComputeDevice;
import dev.ldm4j.nn.ParameterSource;
import dev.ldm4j.nn.Weights;
import dev.ldm4j.sampling.AlignYourSteps;
import dev.ldm4j.text.ClipTextConfig;
import dev.ldm4j.text.ClipTextModel;
import dev.ldm4j.text.ClipTokenizer;
import dev.ldm4j.text.OpenClipLayer;
import dev.ldm4j.text.OpenClipTextConfig;
import dev.ldm4j.text.OpenClipTextModel;
import dev.ldm4j.text.SdxlTextEncoders;
import dev.ldm4j.text.TextEncoder;
import dev.ldm4j.text.TextualInversion;
import dev.ldm4j.text.TextualInversions;
import dev.ldm4j.unet.UNetConfig;
import dev.ldm4j.vae.VaeConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SDXL base (Stability-AI/generative-models, {@code sd_xl_base.yaml}): two text towers under
 * {@code conditioner.embedders.0.transformer.text_model.} (CLIP ViT-L, Hugging Face naming) and
 * {@code conditioner.embedders.1.model.} (OpenCLIP ViT-bigG with {@code text_projection}); a UNet whose
 * {@code label_emb} takes the pooled text and the size embeddings ({@code adm_in_channels}); transformer depth
 * per level; 64 channels per head; scale factor 0.13025.
 *
 * <p>The config's {@code textModelConfig} holds both towers: {@code clip} and {@code openclip} (their
 * text_model_config maps), {@code clip_layer_idx} (which CLIP hidden state) and {@code size_embed_dim}.
 *
 * <p>The refiner ({@code sd_xl_refiner.yaml}, named {@code sdxl-refiner}) is a variant: OpenCLIP alone, under
 * {@code conditioner.embedders.0.model.}; its config has no {@code clip}, and its {@code label_emb} takes the
 * pooled text and five embeddings (original size, crop, aesthetic score).
 */
final class SdxlArchitecture extends CompVisArchitecture {
    static final String EMBEDDERS = "conditioner.embedders.";
    private static final String CLIP = EMBEDDERS + "0.transformer.text_model.";
    private static final String OPENCLIP = EMBEDDERS + "1.model.";
    private static final String REFINER_OPENCLIP = EMBEDDERS + "0.model.";
    static final double SCALE_FACTOR = 0.13025;

    @Override
    public String name() {
        return "sdxl";
    }

    @Override
    public String name(ModelConfig c) {
        return isRefiner(c) ? "sdxl-refiner" : name();
    }

    static boolean isRefiner(ModelConfig c) {
        return c.textModelConfig().get("clip") == null;
    }

    @Override
    public AlignYourSteps alignYourSteps() {
        return AlignYourSteps.SDXL;
    }

    @Override
    public String label() {
        return "SDXL";
    }

    @Override
    public String textPrefix() {
        return EMBEDDERS;
    }

    @Override
    public String defaultTextLayer() {
        return "penultimate";
    }

    @Override
    public ClipTokenizer.Style tokenStyle() {
        return ClipTokenizer.Style.SD1;
    }

    @Override
    int numHeads() {
        return -1;
    }

    @Override
    int numHeadChannels() {
        return 64;
    }

    @Override
    public boolean recognises(SafetensorsFile f) {
        return f.has(CLIP + "embeddings.token_embedding.weight") && f.has(OPENCLIP + "token_embedding.weight")
                || isRefiner(f);
    }

    private static boolean isRefiner(SafetensorsFile f) {
        return f.has(REFINER_OPENCLIP + "token_embedding.weight") && f.has(UNET + "label_emb.0.0.weight");
    }

    @Override
    public boolean readsCondStage(String target) {
        return false; // an sgm config names its embedders in conditioner_config, read by fromSgm
    }

    @Override
    public ModelConfig detect(SafetensorsFile f) {
        UNetConfig u = detectUNet(f);
        String labelEmb = UNET + "label_emb.0.0.weight";
        if (!f.has(labelEmb)) {
            throw new UnsupportedModelException(f.path() + ": an SDXL checkpoint without " + labelEmb);
        }
        int adm = (int) f.info(labelEmb).shape()[1];
        UNetConfig unet = withAdm(u, adm);
        if (isRefiner(f)) {
            OpenClipTextConfig open = OpenClipTextConfig.detect(f, REFINER_OPENCLIP);
            return new ModelConfig(this, false, unet, defaultTextLayer(),
                    textConfig(null, -1, open.toMap(), (adm - open.embedDim()) / 5), VaeConfig.detect(f, VAE,
                    SCALE_FACTOR), 0.00085, 0.012, 1000);
        }
        ClipTextConfig clip = ClipTextConfig.detect(f, CLIP);
        OpenClipTextConfig open = OpenClipTextConfig.detect(f, OPENCLIP);
        int sizeDim = (adm - open.embedDim()) / 6;
        VaeConfig vae = VaeConfig.detect(f, VAE, SCALE_FACTOR);
        // SDXL base takes CLIP's penultimate hidden state (layer_idx 11 of 12)
        return new ModelConfig(this, false, unet, defaultTextLayer(),
                textConfig(clip.toMap(), clip.numHiddenLayers() - 1, open.toMap(), sizeDim), vae, 0.00085, 0.012, 1000);
    }

    private static UNetConfig withAdm(UNetConfig u, int adm) {
        return new UNetConfig(u.inChannels(), u.outChannels(), u.modelChannels(), u.attentionResolutions(),
                u.numResBlocks(), u.channelMult(), u.numHeads(), u.numHeadChannels(), u.transformerDepth(),
                u.contextDim(), u.useLinearInTransformer(), u.legacy(), u.disableSelfAttentions(), 0, adm);
    }

    private static Map<String, Object> textConfig(Map<String, Object> clip, int clipLayerIdx,
                                                  Map<String, Object> openClip, int sizeDim) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (clip != null) {
            m.put("clip", clip);
            m.put("clip_layer_idx", clipLayerIdx);
        }
        m.put("openclip", openClip);
        m.put("size_embed_dim", sizeDim);
        return m;
    }

    @Override
    public ModelConfig reference() {
        UNetConfig unet = new UNetConfig(4, 4, 320, new int[] {4, 2}, 2, new int[] {1, 2, 4}, -1, 64,
                new int[] {0, 2, 10}, 2048, true, false, null, 0, 2816);
        OpenClipTextConfig bigG = new OpenClipTextConfig(77, 49408, 1280, 20, 32, 4.0, 1280,
                dev.ldm4j.text.Activation.GELU);
        return new ModelConfig(this, false, unet, defaultTextLayer(),
                textConfig(ClipTextConfig.VIT_L_14.toMap(), 11, bigG.toMap(), 256), VaeConfig.sd()
                        .withScaleFactor(SCALE_FACTOR), 0.00085, 0.012, 1000);
    }

    @Override
    @SuppressWarnings("unchecked")
    public TextEncoder textEncoder(ParameterSource src, ModelConfig c, SafetensorsFile shapes) {
        Map<String, Object> m = c.textModelConfig();
        ClipTextConfig clip;
        OpenClipTextConfig open;
        try {
            open = OpenClipTextConfig.fromMap((Map<String, Object>) m.get("openclip"));
            if (isRefiner(c)) {
                return SdxlTextEncoders.refiner(new OpenClipTextModel(Weights.of(src, REFINER_OPENCLIP), open,
                        OpenClipLayer.PENULTIMATE, true));
            }
            clip = ClipTextConfig.fromMap((Map<String, Object>) m.get("clip"));
        } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
            throw new UnsupportedModelException("SDXL text_model_config: " + e.getMessage());
        }
        return new SdxlTextEncoders(new ClipTextModel(Weights.of(src, CLIP), clip), (Integer) m.get("clip_layer_idx"),
                new OpenClipTextModel(Weights.of(src, OPENCLIP), open, OpenClipLayer.PENULTIMATE, true));
    }

    @Override
    public Conditioner conditioner(TextEncoder text, ModelConfig c, ClipTokenizer tokenizer,
                                   TextualInversions embeddings, ComputeDevice device) {
        // the encoder this architecture assembled: textEncoder above makes nothing else
        return new SdxlConditioner((SdxlTextEncoders) text, tokenizer, embeddings, device,
                (Integer) c.textModelConfig().get("size_embed_dim"));
    }

    /** The refiner has OpenCLIP alone, so it takes the clip_g half of SDXL embedding files. */
    @Override
    public Map<String, String> tokenEmbeddings(ModelConfig c) {
        if (isRefiner(c)) {
            return Map.of(TextualInversion.CLIP_G, REFINER_OPENCLIP + "token_embedding.weight");
        }
        return Map.of(TextualInversion.CLIP_L, CLIP + "embeddings.token_embedding.weight",
                TextualInversion.CLIP_G, OPENCLIP + "token_embedding.weight");
    }

    @Override
    public Map<String, Object> condStageConfig(ModelConfig c, Map<String, Object> textModelConfig) {
        throw new UnsupportedModelException("training SDXL models is not supported yet");
    }

    @Override
    public String component(String key) {
        return key.startsWith(EMBEDDERS) ? "text encoder" : super.component(key);
    }

    @Override
    public boolean expectedUnused(String key) {
        return super.expectedUnused(key)
                || (key.startsWith(OPENCLIP) || key.startsWith(REFINER_OPENCLIP)) && key.endsWith("logit_scale")
                // the CLIP tower's output is a hidden state before its final LayerNorm
                || key.startsWith(CLIP + "final_layer_norm.");
    }

    /** sgm's context_dim: one number, or one per level (the refiner's YAML), which must then agree. */
    private static int contextDim(YamlMaps y, Map<String, Object> up) {
        int[] dims = y.ints(up, "context_dim", new int[] {2048});
        for (int d : dims) {
            if (d != dims[0]) {
                throw new IllegalArgumentException("context_dim differs between levels: " + java.util.Arrays.toString(dims));
            }
        }
        return dims[0];
    }

    /** An sgm config ({@code model.target: sgm.models.diffusion.DiffusionEngine}). */
    static ModelConfig fromSgm(YamlMaps y, Map<String, Object> model, String source) {
        Map<String, Object> p = y.map(model, "params");
        Map<String, Object> denoiser = y.mapOrEmpty(p, "denoiser_config");
        Map<String, Object> dp = y.mapOrEmpty(denoiser, "params");
        String scaling = y.string(y.mapOrEmpty(dp, "scaling_config"), "target", "EpsScaling");
        if (!scaling.endsWith("EpsScaling") && !scaling.endsWith("VScaling")) {
            throw new UnsupportedModelException(source + ": denoiser scaling '" + scaling + "' is not supported "
                    + "(EpsScaling, VScaling)");
        }
        Map<String, Object> disc = y.mapOrEmpty(y.mapOrEmpty(dp, "discretization_config"), "params");

        Map<String, Object> up = y.map(y.map(p, "network_config"), "params");
        Object numClasses = up.get("num_classes");
        int adm = y.integer(up, "adm_in_channels", 0);
        if (adm <= 0 || !"sequential".equals(numClasses)) {
            throw new UnsupportedModelException(source + ": network_config needs num_classes: sequential and "
                    + "adm_in_channels (SDXL base)");
        }
        UNetConfig unet;
        try {
            unet = new UNetConfig(y.integer(up, "in_channels", 4), y.integer(up, "out_channels", 4),
                    y.integer(up, "model_channels", 320), y.ints(up, "attention_resolutions", new int[0]),
                    y.integer(up, "num_res_blocks", 2), y.ints(up, "channel_mult", new int[] {1, 2, 4}),
                    y.integer(up, "num_heads", -1), y.integer(up, "num_head_channels", -1),
                    y.ints(up, "transformer_depth", new int[] {1}), contextDim(y, up),
                    y.bool(up, "use_linear_in_transformer", true), y.bool(up, "legacy", false), null, 0, adm);
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException(source + ": network_config: " + e.getMessage());
        }

        Map<String, Object> clip = null;
        Map<String, Object> open = null;
        int clipLayerIdx = -1;
        int sizeDim = -1;
        Object models = y.map(y.map(p, "conditioner_config"), "params").get("emb_models");
        if (!(models instanceof List<?> list)) {
            throw new UnsupportedModelException(source + ": conditioner_config.params.emb_models is not a list");
        }
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> raw)) {
                throw new UnsupportedModelException(source + ": an emb_models entry is not a map");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> e = (Map<String, Object>) raw;
            String target = y.string(e, "target", "");
            Map<String, Object> ep = y.mapOrEmpty(e, "params");
            if (target.endsWith(".FrozenCLIPEmbedder")) {
                if (!"hidden".equals(y.string(ep, "layer", "last"))) {
                    throw new UnsupportedModelException(source + ": FrozenCLIPEmbedder layer must be 'hidden' (SDXL)");
                }
                clip = y.mapOrEmpty(e, "text_model_config");
                clipLayerIdx = y.integer(ep, "layer_idx", 11);
            } else if (target.endsWith(".FrozenOpenCLIPEmbedder2")) {
                if (!"penultimate".equals(y.string(ep, "layer", "last")) || y.bool(ep, "legacy", true)) {
                    throw new UnsupportedModelException(source + ": FrozenOpenCLIPEmbedder2 must take the penultimate "
                            + "layer with legacy: false (SDXL base)");
                }
                open = y.mapOrEmpty(e, "text_model_config");
            } else if (target.endsWith(".ConcatTimestepEmbedderND")) {
                sizeDim = y.integer(ep, "outdim", 256);
            } else {
                throw new UnsupportedModelException(source + ": embedder '" + target + "' is not supported (SDXL base "
                        + "has FrozenCLIPEmbedder, FrozenOpenCLIPEmbedder2 and three ConcatTimestepEmbedderND)");
            }
        }
        if (open == null || sizeDim <= 0) {
            throw new UnsupportedModelException(source + ": conditioner_config lacks one of SDXL's embedders");
        }
        Map<String, Object> fsp = y.map(y.map(p, "first_stage_config"), "params");
        VaeConfig vae;
        try {
            vae = VaeConfig.fromDdconfig(y.map(fsp, "ddconfig"), y.integer(fsp, "embed_dim", 4),
                    y.number(p, "scale_factor", SCALE_FACTOR));
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException(source + ": first_stage_config: " + e.getMessage());
        }
        return new ModelConfig(SDXL, scaling.endsWith("VScaling"), unet, "penultimate",
                textConfig(clip, clipLayerIdx, open, sizeDim), vae,
                y.number(disc, "linear_start", 0.00085), y.number(disc, "linear_end", 0.012),
                y.integer(dp, "num_idx", 1000));
    }
}
