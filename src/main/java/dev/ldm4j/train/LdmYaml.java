package dev.ldm4j.train;

import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.unet.UNetConfig;
import dev.ldm4j.vae.VaeConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The LDM YAML config of a trained model, in the structure of CompVis {@code v1-inference.yaml} (and
 * Stability's {@code v2-inference-v.yaml} for OpenCLIP models), with the text tower's sizes under
 * {@code cond_stage_config.text_model_config} so that a non-standard text encoder loads too. What
 * {@link ModelConfig#fromYaml} reads back is the model that was trained.
 */
final class LdmYaml {
    private LdmYaml() {}

    static String of(LatentDiffusion m) {
        return of(m, 0);
    }

    /** With {@code imageSize} > 0, also the top-level {@code ldm4j.image_size} that generate defaults to. */
    static String of(LatentDiffusion m, int imageSize) {
        return of(m.config(), m.textModelConfig(), m.textTrainable(), imageSize);
    }

    static String of(ModelConfig c, Map<String, Object> textModelConfig, boolean textTrained, int imageSize) {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("linear_start", c.linearStart());
        params.put("linear_end", c.linearEnd());
        params.put("timesteps", c.timesteps());
        params.put("first_stage_key", "jpg");
        params.put("cond_stage_key", "txt");
        params.put("channels", c.vae().embedDim());
        params.put("cond_stage_trainable", textTrained);
        params.put("conditioning_key", "crossattn");
        if (c.vPrediction()) {
            params.put("parameterization", "v");
        }
        params.put("scale_factor", c.vae().scaleFactor());
        params.put("use_ema", false);
        params.put("unet_config", target("ldm.modules.diffusionmodules.openaimodel.UNetModel", unet(c.unet())));
        params.put("first_stage_config", target("ldm.models.autoencoder.AutoencoderKL", firstStage(c.vae())));
        params.put("cond_stage_config", condStage(c, textModelConfig));
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("target", "ldm.models.diffusion.ddpm.LatentDiffusion");
        model.put("params", params);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("model", model);
        if (imageSize > 0) {
            // outside model: so that CompVis scripts, which instantiate model.params, ignore it
            root.put("ldm4j", Map.of("image_size", imageSize));
        }
        DumperOptions o = new DumperOptions();
        o.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        o.setIndent(2);
        return "# written by ldm4j train\n" + new Yaml(o).dump(root);
    }

    private static Map<String, Object> target(String target, Map<String, Object> params) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("target", target);
        m.put("params", params);
        return m;
    }

    private static Map<String, Object> unet(UNetConfig u) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("in_channels", u.inChannels());
        p.put("out_channels", u.outChannels());
        p.put("model_channels", u.modelChannels());
        p.put("attention_resolutions", list(u.attentionResolutions()));
        p.put("num_res_blocks", u.numResBlocks());
        p.put("channel_mult", list(u.channelMult()));
        if (u.numHeads() > 0) {
            p.put("num_heads", u.numHeads());
        }
        if (u.numHeadChannels() > 0) {
            p.put("num_head_channels", u.numHeadChannels());
        }
        p.put("use_spatial_transformer", true);
        p.put("transformer_depth", u.transformerDepthYaml());
        p.put("context_dim", u.contextDim());
        p.put("use_linear_in_transformer", u.useLinearInTransformer());
        p.put("legacy", u.legacy());
        if (u.disableSelfAttentions() != null) {
            List<Boolean> d = new ArrayList<>();
            for (boolean b : u.disableSelfAttentions()) {
                d.add(b);
            }
            p.put("disable_self_attentions", d);
        }
        if (u.numClasses() > 0) {
            p.put("num_classes", u.numClasses());
        }
        return p;
    }

    private static Map<String, Object> firstStage(VaeConfig v) {
        Map<String, Object> dd = new LinkedHashMap<>();
        dd.put("double_z", true);
        dd.put("z_channels", v.zChannels());
        dd.put("resolution", v.resolution());
        dd.put("in_channels", v.inChannels());
        dd.put("out_ch", v.outCh());
        dd.put("ch", v.ch());
        dd.put("ch_mult", list(v.chMult()));
        dd.put("num_res_blocks", v.numResBlocks());
        dd.put("attn_resolutions", list(v.attnResolutions()));
        dd.put("dropout", 0.0);
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("embed_dim", v.embedDim());
        p.put("ddconfig", dd);
        p.put("lossconfig", Map.of("target", "torch.nn.Identity"));
        return p;
    }

    private static Map<String, Object> condStage(ModelConfig c, Map<String, Object> textModelConfig) {
        return c.architecture().condStageConfig(c, textModelConfig);
    }

    private static List<Integer> list(int[] a) {
        List<Integer> l = new ArrayList<>(a.length);
        for (int v : a) {
            l.add(v);
        }
        return l;
    }
}
