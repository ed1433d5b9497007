package dev.ldm4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ldm4j.io.AtomicFiles;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.io.SafetensorsWriter;
import dev.ldm4j.text.Activation;
import dev.ldm4j.text.ClipTextConfig;
import dev.ldm4j.text.OpenClipLayer;
import dev.ldm4j.text.OpenClipTextConfig;
import dev.ldm4j.unet.UNetConfig;
import dev.ldm4j.vae.VaeConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A diffusers pipeline folder ({@code model_index.json}, {@code unet/}, {@code vae/}, {@code text_encoder/},
 * {@code scheduler/}) read as a single-file checkpoint: its tensors under the CompVis names (a view over the
 * component files, nothing copied; the VAE attention's Linear weights seen as 1x1 convolutions), its model
 * config from the components' {@code config.json}. Component weights: {@code *.safetensors} (the plain file,
 * else the {@code .fp16} variant, else a sharded {@code .safetensors.index.json}), else PyTorch {@code .bin}.
 * SD 1.x and SDXL folders (SDXL's OpenCLIP tower is converted by {@link DiffusersOpenClip}); SD 2.x folders,
 * whose text encoder diffusers also cuts to 23 layers, are refused for now.
 *
 * <p>{@link #write} makes such a folder from a single-file SD 1.x or SDXL base checkpoint.
 */
public final class DiffusersFolder {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TEXT = Architecture.COND_STAGE + "transformer.";
    private static final String SDXL_CLIP = "conditioner.embedders.0.transformer.";
    private static final String SD2_OPENCLIP = Architecture.COND_STAGE + "model.";
    private static final String SDXL_OPENCLIP = "conditioner.embedders.1.model.";

    private DiffusersFolder() {}

    /** A diffusers folder opened: the CompVis view (close it) and the model config. */
    public record Opened(SafetensorsFile file, ModelConfig config) implements AutoCloseable {
        @Override
        public void close() {
            file.close();
        }
    }

    /** Whether {@code path} is a folder that looks like a diffusers pipeline. */
    public static boolean is(Path path) {
        return Files.isDirectory(path)
                && (Files.isRegularFile(path.resolve("model_index.json")) || Files.isDirectory(path.resolve("unet")));
    }

    public static Opened open(Path dir) {
        boolean sdxl = Files.isDirectory(dir.resolve("text_encoder_2"));
        JsonNode unetJson = json(dir.resolve("unet/config.json"));
        JsonNode vaeJson = json(dir.resolve("vae/config.json"));
        JsonNode textJson = json(dir.resolve("text_encoder/config.json"));
        // SD 2.x's text encoder is OpenCLIP's in transformers' layout: erf GELU where CLIP ViT-L has quick_gelu
        boolean sd2 = !sdxl && textJson.path("hidden_act").asText("quick_gelu").equals("gelu");
        JsonNode scheduler = json(dir.resolve("scheduler/scheduler_config.json"));
        ModelConfig config = sdxl ? sdxlConfig(dir, unetJson, vaeJson, textJson,
                json(dir.resolve("text_encoder_2/config.json")), scheduler)
                : sd2 ? sd2Config(dir, unetJson, vaeJson, textJson, scheduler)
                : config(dir, unetJson, vaeJson, textJson, scheduler);
        List<SafetensorsFile> files = new ArrayList<>();
        try {
            Map<String, SafetensorsFile.Part> parts = new LinkedHashMap<>();
            Map<String, SafetensorsFile.Memory> memory = new LinkedHashMap<>();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            for (SafetensorsFile f : weights(dir.resolve("unet"), "diffusion_pytorch_model", files)) {
                for (String key : f.keys()) {
                    String compvis = DiffusersUNetNames.toCompVis(key, config.unet());
                    put(parts, Architecture.UNET + (compvis == null ? key : compvis), f, key, dir);
                }
            }
            int levels = config.vae().chMult().length;
            for (SafetensorsFile f : weights(dir.resolve("vae"), "diffusion_pytorch_model", files)) {
                for (String key : f.keys()) {
                    String compvis = Architecture.VAE + DiffusersVaeNames.toCompVis(key, levels);
                    put(parts, compvis, f, key, dir);
                    if (DiffusersVaeNames.isAttentionProjection(compvis.substring(Architecture.VAE.length()))) {
                        long[] s = f.info(key).shape();
                        shapes.put(compvis, new long[] {s[0], s[1], 1, 1});
                    }
                }
            }
            String clip = sdxl ? SDXL_CLIP : TEXT;
            for (SafetensorsFile f : weights(dir.resolve("text_encoder"), "model", files)) {
                if (sd2) {
                    DiffusersOpenClip.toOpenClip(f, SD2_OPENCLIP, parts, memory);
                    continue;
                }
                for (String key : f.keys()) {
                    put(parts, clip + key, f, key, dir);
                }
            }
            if (sdxl) {
                for (SafetensorsFile f : weights(dir.resolve("text_encoder_2"), "model", files)) {
                    DiffusersOpenClip.toOpenClip(f, SDXL_OPENCLIP, parts, memory);
                }
            }
            return new Opened(SafetensorsFile.view(dir, parts, shapes, memory, files), config);
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static void put(Map<String, SafetensorsFile.Part> parts, String name, SafetensorsFile f, String key,
                            Path dir) {
        if (parts.put(name, new SafetensorsFile.Part(f, key)) != null) {
            throw new ModelFileException(dir + ": two tensors map to " + name + " (the second is " + key + " in "
                    + f.path() + ")");
        }
    }

    /** The weight files of a component: plain, fp16 variant, sharded, or PyTorch .bin. */
    private static List<SafetensorsFile> weights(Path component, String stem, List<SafetensorsFile> opened) {
        List<Path> candidates = List.of(component.resolve(stem + ".safetensors"),
                component.resolve(stem + ".fp16.safetensors"));
        for (Path p : candidates) {
            if (Files.isRegularFile(p)) {
                SafetensorsFile f = SafetensorsFile.open(p);
                opened.add(f);
                return List.of(f);
            }
        }
        Path index = component.resolve(stem + ".safetensors.index.json");
        if (Files.isRegularFile(index)) {
            List<SafetensorsFile> shards = new ArrayList<>();
            java.util.Set<String> names = new java.util.LinkedHashSet<>();
            for (Iterator<JsonNode> it = json(index).path("weight_map").elements(); it.hasNext(); ) {
                names.add(it.next().asText());
            }
            for (String name : names) {
                Path shard = component.resolve(name).normalize();
                if (!shard.startsWith(component.normalize()) || name.contains("/") || name.contains("\\\\")) {
                    throw new ModelFileException(index + ": shard '" + name + "' is outside " + component);
                }
                SafetensorsFile f = SafetensorsFile.open(shard);
                opened.add(f);
                shards.add(f);
            }
            return shards;
        }
        for (String bin : List.of(stem + ".bin", "pytorch_model.bin", "diffusion_pytorch_model.bin")) {
            Path p = component.resolve(bin);
            if (Files.isRegularFile(p)) {
                SafetensorsFile f = SafetensorsFile.open(p);
                opened.add(f);
                return List.of(f);
            }
        }
        throw new ModelFileException(component + ": no weights (" + stem + ".safetensors, .fp16.safetensors, "
                + ".safetensors.index.json or .bin)");
    }

    private static JsonNode json(Path p) {
        if (!Files.isRegularFile(p)) {
            throw new ModelFileException(p + ": missing (a diffusers folder has unet/, vae/, text_encoder/ and "
                    + "scheduler/ with their config.json)");
        }
        try {
            return JSON.readTree(p.toFile());
        } catch (IOException e) {
            throw new ModelFileException(p + ": not readable JSON (" + e.getMessage() + ")", e);
        }
    }

    /** The model config of an SD 1.x folder from its components' config.json. */
    static ModelConfig config(Path dir, JsonNode unet, JsonNode vae, JsonNode text, JsonNode scheduler) {
        try {
            Map<String, Object> textConfig = ClipTextConfig.fromMap(JSON.convertValue(text, Map.class)).toMap();
            return new ModelConfig(Architecture.SD1, vPrediction(dir, scheduler), unetConfig(unet), "last", textConfig,
                    vaeConfig(vae, VaeConfig.SD_SCALE_FACTOR), scheduler.path("beta_start").asDouble(0.00085),
                    scheduler.path("beta_end").asDouble(0.012), scheduler.path("num_train_timesteps").asInt(1000));
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException(dir + ": " + e.getMessage());
        }
    }

    /**
     * The model config of an SD 2.x folder: OpenCLIP ViT-H in transformers' layout, which diffusers keeps without
     * its last layer and reads to the end (through the final LayerNorm): SD 2.x's penultimate-layer conditioning.
     */
    static ModelConfig sd2Config(Path dir, JsonNode unet, JsonNode vae, JsonNode text, JsonNode scheduler) {
        try {
            OpenClipTextConfig open = openClip(text, text.path("hidden_size").asInt(1024));
            return new ModelConfig(Architecture.SD2, vPrediction(dir, scheduler), unetConfig(unet), "last",
                    open.toMap(), vaeConfig(vae, VaeConfig.SD_SCALE_FACTOR), scheduler.path("beta_start").asDouble(0.00085),
                    scheduler.path("beta_end").asDouble(0.012), scheduler.path("num_train_timesteps").asInt(1000));
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException(dir + ": " + e.getMessage());
        }
    }

    private static OpenClipTextConfig openClip(JsonNode text, int width) {
        return new OpenClipTextConfig(text.path("max_position_embeddings").asInt(77), text.path("vocab_size").asInt(49408),
                width, text.path("num_attention_heads").asInt(16), text.path("num_hidden_layers").asInt(23),
                text.path("intermediate_size").asDouble(4.0 * width) / width, text.path("projection_dim").asInt(width),
                Activation.parse(text.path("hidden_act").asText("gelu")));
    }

    /** The model config of an SDXL folder: CLIP ViT-L (text_encoder) and OpenCLIP bigG (text_encoder_2). */
    static ModelConfig sdxlConfig(Path dir, JsonNode unet, JsonNode vae, JsonNode text, JsonNode text2,
                                  JsonNode scheduler) {
        try {
            ClipTextConfig clip = ClipTextConfig.fromMap(JSON.convertValue(text, Map.class));
            OpenClipTextConfig open = openClip(text2, text2.path("hidden_size").asInt(1280));
            Map<String, Object> textConfig = new LinkedHashMap<>();
            textConfig.put("clip", clip.toMap());
            textConfig.put("clip_layer_idx", clip.numHiddenLayers() - 1);
            textConfig.put("openclip", open.toMap());
            textConfig.put("size_embed_dim", unet.path("addition_time_embed_dim").asInt(256));
            return new ModelConfig(Architecture.SDXL, vPrediction(dir, scheduler), unetConfig(unet), "penultimate",
                    textConfig, vaeConfig(vae, 0.13025), scheduler.path("beta_start").asDouble(0.00085),
                    scheduler.path("beta_end").asDouble(0.012), scheduler.path("num_train_timesteps").asInt(1000));
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException(dir + ": " + e.getMessage());
        }
    }

    private static boolean vPrediction(Path dir, JsonNode scheduler) {
        String schedule = scheduler.path("beta_schedule").asText("scaled_linear");
        if (!schedule.equals("scaled_linear")) {
            throw new UnsupportedModelException(dir + ": beta_schedule " + schedule + " (SD's is scaled_linear)");
        }
        return scheduler.path("prediction_type").asText("epsilon").equals("v_prediction");
    }

    /**
     * diffusers' UNet2DConditionModel config as a UNetConfig. Its {@code attention_head_dim} is a head COUNT (one
     * number, SD 1.x), or one per level (SD 2.x, SDXL: 64 channels per head).
     */
    private static UNetConfig unetConfig(JsonNode unet) {
        int[] blocks = ints(unet.path("block_out_channels"));
        int mc = blocks[0];
        int[] mult = new int[blocks.length];
        List<Integer> attention = new ArrayList<>();
        int attendingLevel = -1;
        JsonNode down = unet.path("down_block_types");
        for (int i = 0; i < blocks.length; i++) {
            mult[i] = blocks[i] / mc;
            if (down.path(i).asText().startsWith("CrossAttn")) {
                attention.add(1 << i);
                attendingLevel = attendingLevel < 0 ? i : attendingLevel;
            }
        }
        JsonNode heads = unet.path("attention_head_dim");
        int numHeads = heads.isArray() ? -1 : heads.asInt(8);
        int headChannels = heads.isArray() && attendingLevel >= 0
                ? blocks[attendingLevel] / heads.path(attendingLevel).asInt(1) : -1;
        JsonNode depth = unet.path("transformer_layers_per_block");
        int[] depths = depth.isMissingNode() || depth.isNull() ? new int[] {1}
                : depth.isArray() ? ints(depth) : new int[] {depth.asInt(1)};
        int adm = unet.path("addition_embed_type").asText("").equals("text_time")
                ? unet.path("projection_class_embeddings_input_dim").asInt() : 0;
        return new UNetConfig(unet.path("in_channels").asInt(4), unet.path("out_channels").asInt(4), mc,
                attention.stream().mapToInt(Integer::intValue).toArray(), unet.path("layers_per_block").asInt(2), mult,
                numHeads, headChannels, depths, unet.path("cross_attention_dim").asInt(768),
                unet.path("use_linear_projection").asBoolean(false), false, null, 0, adm);
    }

    private static VaeConfig vaeConfig(JsonNode vae, double defaultScale) {
        int[] vaeBlocks = ints(vae.path("block_out_channels"));
        int[] vaeMult = new int[vaeBlocks.length];
        for (int i = 0; i < vaeBlocks.length; i++) {
            vaeMult[i] = vaeBlocks[i] / vaeBlocks[0];
        }
        int latent = vae.path("latent_channels").asInt(4);
        return new VaeConfig(vaeBlocks[0], vaeMult, vae.path("layers_per_block").asInt(2), latent, latent,
                vae.path("in_channels").asInt(3), vae.path("out_channels").asInt(3), new int[0],
                vae.path("sample_size").asInt(256), vae.path("scaling_factor").asDouble(defaultScale));
    }

    private static int[] ints(JsonNode array) {
        if (!array.isArray() || array.isEmpty()) {
            throw new IllegalArgumentException("expected a list of numbers, got " + array);
        }
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    /**
     * A diffusers folder from a single-file SD 1.x checkpoint and its config: the same tensors (bytes unchanged)
     * under diffusers' names, with the config.json of each component and model_index.json.
     */
    public static void write(SafetensorsFile single, ModelConfig c, Path dir) {
        boolean sdxl = c.architecture() == Architecture.SDXL;
        boolean sd2 = c.architecture() == Architecture.SD2;
        if (c.architecture() != Architecture.SD1 && !sdxl && !sd2 || sdxl && SdxlArchitecture.isRefiner(c)
                || c.unet().inChannels() != c.unet().outChannels()) {
            throw new UnsupportedModelException("writing a diffusers folder: SD 1.x, SD 2.x and SDXL base models, got "
                    + c.describe());
        }
        String clipPrefix = sdxl ? SDXL_CLIP : TEXT;
        Map<String, SafetensorsFile.Part> text2 = new LinkedHashMap<>();
        Map<String, SafetensorsFile.Memory> text2Memory = new LinkedHashMap<>();
        if (sdxl) {
            DiffusersOpenClip.toDiffusers(single, SDXL_OPENCLIP, text2, text2Memory);
        }
        Map<String, SafetensorsFile.Part> unet = new LinkedHashMap<>();
        Map<String, SafetensorsFile.Part> vae = new LinkedHashMap<>();
        Map<String, long[]> vaeShapes = new LinkedHashMap<>();
        Map<String, SafetensorsFile.Part> text = new LinkedHashMap<>();
        Map<String, SafetensorsFile.Memory> textMemory = new LinkedHashMap<>();
        OpenClipTextConfig sd2Text = null;
        if (sd2) {
            OpenClipTextConfig o = OpenClipTextConfig.fromMap(c.textModelConfig());
            // diffusers keeps the layers the conditioning runs: all but the last for the penultimate layer
            int kept = o.layers() - OpenClipLayer.parse(c.textLayer()).skipped();
            sd2Text = new OpenClipTextConfig(o.contextLength(), o.vocabSize(), o.width(), o.heads(), kept, o.mlpRatio(),
                    o.embedDim(), o.act());
            DiffusersOpenClip.toDiffusers(single, SD2_OPENCLIP, kept, false, text, textMemory);
        }
        int levels = c.vae().chMult().length;
        for (String key : single.keys()) {
            if (key.startsWith(Architecture.UNET)) {
                String name = DiffusersUNetNames.of(key.substring(Architecture.UNET.length()), c.unet());
                if (name != null) {
                    unet.put(name, new SafetensorsFile.Part(single, key));
                }
            } else if (key.startsWith(Architecture.VAE)) {
                String inner = key.substring(Architecture.VAE.length());
                String name = DiffusersVaeNames.modern(inner, levels);
                vae.put(name, new SafetensorsFile.Part(single, key));
                if (DiffusersVaeNames.isAttentionProjection(inner)) {
                    long[] s = single.info(key).shape();
                    vaeShapes.put(name, new long[] {s[0], s[1]});
                }
            } else if (key.startsWith(clipPrefix) && !sd2) {
                text.put(key.substring(clipPrefix.length()), new SafetensorsFile.Part(single, key));
            }
        }
        try {
            for (String component : List.of("unet", "vae", "text_encoder", "scheduler")) {
                Files.createDirectories(dir.resolve(component));
            }
            if (sdxl) {
                Files.createDirectories(dir.resolve("text_encoder_2"));
                SafetensorsWriter.write(dir.resolve("text_encoder_2/model.safetensors"),
                        SafetensorsFile.view(dir, text2, Map.of(), text2Memory, List.of()));
                writeJson(dir.resolve("text_encoder_2/config.json"), openClipJson(c));
            }
            SafetensorsWriter.write(dir.resolve("unet/diffusion_pytorch_model.safetensors"),
                    SafetensorsFile.view(dir, unet, Map.of(), List.of()));
            SafetensorsWriter.write(dir.resolve("vae/diffusion_pytorch_model.safetensors"),
                    SafetensorsFile.view(dir, vae, vaeShapes, List.of()));
            SafetensorsWriter.write(dir.resolve("text_encoder/model.safetensors"),
                    SafetensorsFile.view(dir, text, Map.of(), textMemory, List.of()));
            ObjectNode unetJson = unetJson(c.unet());
            if (sdxl) {
                unetJson.put("addition_embed_type", "text_time")
                        .put("addition_time_embed_dim", (Integer) c.textModelConfig().get("size_embed_dim"))
                        .put("projection_class_embeddings_input_dim", c.unet().admInChannels());
            }
            writeJson(dir.resolve("unet/config.json"), unetJson);
            writeJson(dir.resolve("vae/config.json"), vaeJson(c.vae()));
            ObjectNode textJson = sd2 ? openClipJson(sd2Text, "CLIPTextModel")
                    : JSON.valueToTree(sdxl ? c.textModelConfig().get("clip") : c.textModelConfig());
            textJson.put("_class_name", "CLIPTextModel");
            textJson.remove("architecture");
            writeJson(dir.resolve("text_encoder/config.json"), textJson);
            ObjectNode sched = JSON.createObjectNode().put("_class_name", "PNDMScheduler")
                    .put("beta_start", c.linearStart()).put("beta_end", c.linearEnd())
                    .put("beta_schedule", "scaled_linear").put("num_train_timesteps", c.timesteps())
                    .put("prediction_type", c.vPrediction() ? "v_prediction" : "epsilon");
            writeJson(dir.resolve("scheduler/scheduler_config.json"), sched);
            ObjectNode index = JSON.createObjectNode().put("_class_name",
                    sdxl ? "StableDiffusionXLPipeline" : "StableDiffusionPipeline");
            if (sdxl) {
                index.set("text_encoder_2", JSON.createArrayNode().add("transformers").add("CLIPTextModelWithProjection"));
            }
            index.set("unet", JSON.createArrayNode().add("diffusers").add("UNet2DConditionModel"));
            index.set("vae", JSON.createArrayNode().add("diffusers").add("AutoencoderKL"));
            index.set("text_encoder", JSON.createArrayNode().add("transformers").add("CLIPTextModel"));
            index.set("scheduler", JSON.createArrayNode().add("diffusers").add("PNDMScheduler"));
            writeJson(dir.resolve("model_index.json"), index);
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        }
    }

    private static ObjectNode unetJson(UNetConfig u) {
        ObjectNode n = JSON.createObjectNode().put("_class_name", "UNet2DConditionModel")
                .put("in_channels", u.inChannels()).put("out_channels", u.outChannels())
                .put("layers_per_block", u.numResBlocks()).put("cross_attention_dim", u.contextDim())
                .put("use_linear_projection", u.useLinearInTransformer()).put("norm_num_groups", 32);
        ArrayNode blocks = n.putArray("block_out_channels");
        ArrayNode depths = n.putArray("transformer_layers_per_block");
        if (u.numHeads() > 0) {
            n.put("attention_head_dim", u.numHeads());
        }
        ArrayNode heads = u.numHeads() > 0 ? null : n.putArray("attention_head_dim");
        ArrayNode down = n.putArray("down_block_types");
        ArrayNode up = n.putArray("up_block_types");
        int levels = u.channelMult().length;
        for (int i = 0; i < levels; i++) {
            blocks.add(u.modelChannels() * u.channelMult()[i]);
            depths.add(u.transformerDepth(i));
            if (heads != null) {
                heads.add(u.modelChannels() * u.channelMult()[i] / u.numHeadChannels());
            }
            int ds = 1 << i;
            boolean attends = java.util.Arrays.stream(u.attentionResolutions()).anyMatch(r -> r == ds);
            down.add(attends ? "CrossAttnDownBlock2D" : "DownBlock2D");
        }
        for (int i = levels - 1; i >= 0; i--) {
            boolean attends = down.get(i).asText().startsWith("CrossAttn");
            up.add(attends ? "CrossAttnUpBlock2D" : "UpBlock2D");
        }
        return n;
    }

    @SuppressWarnings("unchecked")
    private static ObjectNode openClipJson(ModelConfig c) {
        return openClipJson(OpenClipTextConfig.fromMap((Map<String, Object>) c.textModelConfig().get("openclip")),
                "CLIPTextModelWithProjection");
    }

    private static ObjectNode openClipJson(OpenClipTextConfig o, String className) {
        return JSON.createObjectNode().put("_class_name", className)
                .put("hidden_size", o.width()).put("intermediate_size", (int) Math.round(o.width() * o.mlpRatio()))
                .put("num_attention_heads", o.heads()).put("num_hidden_layers", o.layers())
                .put("max_position_embeddings", o.contextLength()).put("vocab_size", o.vocabSize())
                .put("projection_dim", o.embedDim()).put("hidden_act", o.act().configName())
                .put("layer_norm_eps", 1e-5);
    }

    private static ObjectNode vaeJson(VaeConfig v) {
        ObjectNode n = JSON.createObjectNode().put("_class_name", "AutoencoderKL").put("in_channels", v.inChannels())
                .put("out_channels", v.outCh()).put("latent_channels", v.zChannels())
                .put("layers_per_block", v.numResBlocks()).put("sample_size", v.resolution())
                .put("scaling_factor", v.scaleFactor()).put("norm_num_groups", 32);
        ArrayNode blocks = n.putArray("block_out_channels");
        for (int m : v.chMult()) {
            blocks.add(v.ch() * m);
        }
        return n;
    }

    private static void writeJson(Path p, JsonNode n) throws IOException {
        Files.createDirectories(p.getParent());
        AtomicFiles.writeString(p, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
    }
}
