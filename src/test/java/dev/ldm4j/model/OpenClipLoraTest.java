package dev.ldm4j.model;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.ParameterSource;
import dev.ldm4j.nn.Tensors;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kohya's {@code lora_te2_*} modules (named after transformers' CLIP layout, where q, k and v are separate)
 * merged into SDXL's OpenCLIP tower, whose checkpoint fuses them into {@code attn.in_proj_weight}: each lands
 * on its third of the rows (q, k, v in that order, as diffusers' conversion script fuses them), and out_proj / fc1
 * / fc2 on their weights. The expected values merge each unfused projection by kohya's formula, the one the LoRA
 * fixture checks.
 */
class OpenClipLoraTest {
    private static final String OPEN = "conditioner.embedders.1.model.";

    @Test
    void te2ModulesLandOnTheirRows(@TempDir Path dir) {
        Path lora = dir.resolve("te2.safetensors");
        Random random = new Random(7);
        String layer = "lora_te2_text_model_encoder_layers_1_";
        Map<String, long[]> modules = Map.of("self_attn_q_proj", new long[] {20, 20}, "self_attn_k_proj", new long[] {20, 20},
                "self_attn_v_proj", new long[] {20, 20}, "self_attn_out_proj", new long[] {20, 20}, "mlp_fc1", new long[] {80, 20},
                "mlp_fc2", new long[] {20, 80});
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (Map.Entry<String, long[]> e : modules.entrySet()) {
                long o = e.getValue()[0];
                long i = e.getValue()[1];
                out.put(layer + e.getKey() + ".lora_down.weight", randn(random, 2, i));
                out.put(layer + e.getKey() + ".lora_up.weight", randn(random, o, 2));
                out.put(layer + e.getKey() + ".alpha", Tensors.fromFloats(new float[] {1.5f}));
            }
            Tensors.write(lora, out);
        }
        ModelConfig c = ModelConfig.fromYaml(Fixtures.path("sdxl-tiny/config.yaml"));
        LoraPatch patch = new LoraPatch(List.of(new LoraPatch.Applied(LoraFile.read(lora, "te2"), 0.6, 0.6)));
        try (SafetensorsFile f = Fixtures.open("sdxl-tiny/model.safetensors");
             SafetensorsFile l = SafetensorsFile.open(lora);
             PointerScope scope = new PointerScope(); InferenceMode g = new InferenceMode()) {
            ParameterSource src = patch.apply(new CheckpointSource(f), c);
            Map<String, Tensor> merged = new LinkedHashMap<>();
            for (String k : List.of("attn.in_proj_weight", "attn.out_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")) {
                String key = OPEN + "transformer.resblocks.1." + k;
                merged.put(k, src.get(key, f.info(key).shape()));
            }
            Tensor inProj = Tensors.readFloat(f, OPEN + "transformer.resblocks.1.attn.in_proj_weight");
            Tensor expected = Ops.cat(0, kohya(inProj.narrow(0, 0, 20), l, layer + "self_attn_q_proj"),
                    kohya(inProj.narrow(0, 20, 20), l, layer + "self_attn_k_proj"),
                    kohya(inProj.narrow(0, 40, 20), l, layer + "self_attn_v_proj"));
            assertClose(expected, merged.get("attn.in_proj_weight"), 1e-5, "in_proj");
            assertClose(kohya(Tensors.readFloat(f, OPEN + "transformer.resblocks.1.attn.out_proj.weight"), l,
                    layer + "self_attn_out_proj"), merged.get("attn.out_proj.weight"), 1e-5, "out_proj");
            assertClose(kohya(Tensors.readFloat(f, OPEN + "transformer.resblocks.1.mlp.c_fc.weight"), l, layer + "mlp_fc1"),
                    merged.get("mlp.c_fc.weight"), 1e-5, "c_fc");
            assertClose(kohya(Tensors.readFloat(f, OPEN + "transformer.resblocks.1.mlp.c_proj.weight"), l, layer + "mlp_fc2"),
                    merged.get("mlp.c_proj.weight"), 1e-5, "c_proj");
            assertEquals(List.of(), patch.unmatched());
        }
    }

    /** kohya's merge, W + m (up @ down) (alpha / r). */
    private static Tensor kohya(Tensor w, SafetensorsFile l, String module) {
        Tensor down = Tensors.readFloat(l, module + ".lora_down.weight");
        Tensor up = Tensors.readFloat(l, module + ".lora_up.weight");
        double alpha = Tensors.toFloats(Tensors.readFloat(l, module + ".alpha"))[0];
        return w.add(up.matmul(down).mul(Ops.s(0.6)).mul(Ops.s(alpha / down.size(0))));
    }

    private static Tensor randn(Random r, long rows, long cols) {
        float[] v = new float[(int) (rows * cols)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * 0.2);
        }
        return Tensors.fromFloats(v, rows, cols);
    }
}
