package dev.ldm4j.text;

import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sizes of an open_clip text tower (the SD 2.x text encoder), named after open_clip's {@code CLIPTextCfg}.
 *
 * @param contextLength rows of {@code positional_embedding} (77)
 * @param vocabSize rows of {@code token_embedding}
 * @param width model width, also the context width the UNet sees
 * @param heads heads per attention; {@code width} must divide evenly
 * @param layers residual attention blocks
 * @param mlpRatio MLP hidden width / width
 * @param embedDim columns of {@code text_projection} (the joint image-text space)
 * @param act the MLP nonlinearity
 */
public record OpenClipTextConfig(int contextLength, int vocabSize, int width, int heads, int layers,
                                 double mlpRatio, int embedDim, Activation act) {
    private static final Logger LOG = LoggerFactory.getLogger(OpenClipTextConfig.class);

    /** OpenCLIP ViT-H/14's text tower, which every SD 2.x checkpoint uses. */
    public static final OpenClipTextConfig VIT_H_14 =
            new OpenClipTextConfig(77, 49408, 1024, 16, 24, 4.0, 1024, Activation.GELU);

    public OpenClipTextConfig {
        if (contextLength <= 0 || vocabSize <= 0 || width <= 0 || heads <= 0 || layers <= 0 || !(mlpRatio > 0)
                || embedDim <= 0) {
            throw new IllegalArgumentException("OpenCLIP text config sizes must be positive: context_length "
                    + contextLength + ", vocab_size " + vocabSize + ", width " + width + ", heads " + heads
                    + ", layers " + layers + ", mlp_ratio " + mlpRatio + ", embed_dim " + embedDim);
        }
        if (width % heads != 0) {
            throw new IllegalArgumentException("OpenCLIP text config: width " + width + " is not divisible by heads "
                    + heads);
        }
        if (act == null) {
            throw new IllegalArgumentException("OpenCLIP text config: act missing");
        }
    }

    /** Width of the MLP's hidden layer, as open_clip computes it: int(width * mlp_ratio). */
    public int mlpWidth() {
        return (int) (width * mlpRatio);
    }

    /**
     * From a {@code text_model_config} map in open_clip {@code CLIPTextCfg} names plus {@code embed_dim} and
     * {@code act}. A key the map leaves out takes its {@link #VIT_H_14} value; unknown keys are ignored.
     */
    public static OpenClipTextConfig fromMap(Map<String, ?> map) {
        if (map.get("ls_init_value") != null) {
            // LayerScale adds ls_1 / ls_2 parameters that no SD checkpoint has
            throw new IllegalArgumentException("OpenCLIP text config: ls_init_value (LayerScale) is not supported");
        }
        OpenClipTextConfig d = VIT_H_14;
        return new OpenClipTextConfig(
                ConfigValues.intValue(map, "context_length", d.contextLength),
                ConfigValues.intValue(map, "vocab_size", d.vocabSize),
                ConfigValues.intValue(map, "width", d.width),
                ConfigValues.intValue(map, "heads", d.heads),
                ConfigValues.intValue(map, "layers", d.layers),
                ConfigValues.doubleValue(map, "mlp_ratio", d.mlpRatio),
                ConfigValues.intValue(map, "embed_dim", d.embedDim),
                Activation.parse(ConfigValues.stringValue(map, "act", d.act.configName())));
    }

    /** This config in the names {@link #fromMap} reads (an LDM YAML's {@code text_model_config}). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("context_length", contextLength);
        m.put("vocab_size", vocabSize);
        m.put("width", width);
        m.put("heads", heads);
        m.put("layers", layers);
        m.put("mlp_ratio", mlpRatio);
        m.put("embed_dim", embedDim);
        m.put("act", act.configName());
        return m;
    }

    /**
     * Reads the sizes from the tensor shapes below {@code prefix} (e.g. {@code cond_stage_model.model.});
     * heads are width / 64 as in every released model, the activation is {@link #VIT_H_14}'s erf GELU.
     *
     * @throws ModelFileException when a key is missing or the width is not a multiple of 64
     */
    public static OpenClipTextConfig detect(SafetensorsFile file, String prefix) {
        return detect(Shapes.of(file), prefix, 0);
    }

    /** As {@link #detect(SafetensorsFile, String)} with a known head count (shapes do not show it). */
    public static OpenClipTextConfig detect(SafetensorsFile file, String prefix, int heads) {
        if (heads <= 0) {
            throw new IllegalArgumentException("heads must be positive, got " + heads);
        }
        return detect(Shapes.of(file), prefix, heads);
    }

    /** {@code heads} 0 means: infer from the width. */
    static OpenClipTextConfig detect(Shapes shapes, String prefix, int heads) {
        String p = Shapes.prefix(prefix);
        long[] tok = shapes.require(p + "token_embedding.weight", 2);
        long[] pos = shapes.require(p + "positional_embedding", 2);
        int layers = shapes.countBlocks(p + "transformer.resblocks.", "ln_1.weight");
        if (layers == 0) {
            throw new ModelFileException(shapes.where() + ": no OpenCLIP resblocks under '" + p
                    + "transformer.resblocks.'");
        }
        long[] fc = shapes.require(p + "transformer.resblocks.0.mlp.c_fc.weight", 2);
        long width = tok[1];
        // text_projection only matters for the pooled embedding; without it the joint space is taken as width
        long embed = shapes.has(p + "text_projection") ? shapes.require(p + "text_projection", 2)[1] : width;
        OpenClipTextConfig c = new OpenClipTextConfig(Math.toIntExact(pos[0]), Math.toIntExact(tok[0]),
                Math.toIntExact(width), heads > 0 ? heads : shapes.headsFor(width), layers,
                (double) fc[0] / width, Math.toIntExact(embed), VIT_H_14.act);
        LOG.debug("{}: detected OpenCLIP text encoder {}", shapes.where(), c);
        return c;
    }
}
