package dev.ldm4j.model;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.ParameterSource;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.unet.Conditioning;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The kohya LoRA of the fixtures merged at load, against kohya sd-scripts' own merge and the model it makes. */
@Tag("golden")
class LoraTest {
    private static final String FOLDER = "lora";

    private static LoraPatch patch(double te, double unet) {
        return new LoraPatch(List.of(new LoraPatch.Applied(LoraFile.read(Fixtures.path(FOLDER + "/sd1_tiny_lora.safetensors"),
                "sd1_tiny_lora"), te, unet)));
    }

    private static double tol(String id, String name) {
        return Fixtures.tolerance(FOLDER, id, name);
    }

    @Test
    void mergedWeightsMatchKohya() {
        String id = "merged_weights_m0.8";
        ModelConfig c = ModelConfig.fromYaml(Fixtures.path("sd1-tiny/config.yaml"));
        LoraPatch patch = patch(0.8, 0.8);
        try (SafetensorsFile f = Fixtures.open("sd1-tiny/model.safetensors");
             SafetensorsFile cf = Fixtures.open(FOLDER + "/cases/" + id + ".safetensors");
             PointerScope scope = new PointerScope(); InferenceMode g = new InferenceMode()) {
            ParameterSource src = patch.apply(new CheckpointSource(f), c);
            int checked = 0;
            for (String key : cf.keys()) {
                assertClose(Tensors.read(cf, key), src.get(key, f.info(key).shape()), tol(id, key), key);
                checked++;
            }
            assertEquals(154, checked);
            // a weight no LoRA module names comes through untouched
            String untouched = "model.diffusion_model.out.2.bias";
            assertClose(Tensors.read(f, untouched), src.get(untouched, f.info(untouched).shape()), 0, untouched);
            assertEquals(List.of(), patch.unmatched());
            patch.check();
            assertEquals(1, patch.openFiles(), "the LoRA file is opened once for all its modules");
            patch.release();
            assertEquals(0, patch.openFiles());
        }
    }

    /**
     * The same LoRA with its UNet modules named after diffusers' UNet (as kohya names SD 1.x LoRAs), renamed by
     * diffusers' own conversion table (scripts/reference/diffusers_unet_keys.py): the same merged weights.
     */
    @Test
    void diffusersLayoutNamesMergeTheSame(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        com.fasterxml.jackson.databind.JsonNode table;
        try (java.io.InputStream in = getClass().getResourceAsStream("diffusers-unet-keys.json")) {
            table = new com.fasterxml.jackson.databind.ObjectMapper().readTree(in).get("compvis_to_diffusers");
        }
        java.nio.file.Path renamed = dir.resolve("renamed.safetensors");
        int moved = 0;
        try (PointerScope scope = new PointerScope();
             SafetensorsFile f = Fixtures.open(FOLDER + "/sd1_tiny_lora.safetensors")) {
            java.util.Map<String, org.bytedeco.pytorch.Tensor> out = new java.util.LinkedHashMap<>();
            for (String key : f.keys()) {
                String k = key;
                for (var it = table.fields(); it.hasNext(); ) {
                    var e = it.next();
                    String compvis = "lora_unet_" + e.getKey().replaceFirst("\\.weight$", "").replace('.', '_') + ".";
                    if (e.getKey().endsWith(".weight") && key.startsWith(compvis)) {
                        k = "lora_unet_" + e.getValue().asText().replaceFirst("\\.weight$", "").replace('.', '_') + "."
                                + key.substring(compvis.length());
                        moved++;
                        break;
                    }
                }
                out.put(k, Tensors.read(f, key));
            }
            Tensors.write(renamed, out);
        }
        assertTrue(moved > 300, "renamed " + moved);
        assertMergesToKohya(new LoraPatch(List.of(new LoraPatch.Applied(LoraFile.read(renamed, "renamed"), 0.8, 0.8))));
    }

    /**
     * The same LoRA written as diffusers/PEFT save it: {@code unet.<diffusers path>.lora_A.weight} (down) and
     * {@code lora_B.weight} (up), {@code text_encoder.<path>}, no alpha (so the scale alpha / r is folded into
     * B, as a conversion to that format does); UNet paths from diffusers' own conversion table, the others from
     * the fixture's key map. The merge gives kohya's merged weights.
     */
    @Test
    void diffusersPeftFilesMergeTheSame(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        com.fasterxml.jackson.databind.JsonNode table;
        try (java.io.InputStream in = getClass().getResourceAsStream("diffusers-unet-keys.json")) {
            table = new com.fasterxml.jackson.databind.ObjectMapper().readTree(in).get("compvis_to_diffusers");
        }
        com.fasterxml.jackson.databind.JsonNode keyMap = Fixtures.manifest(FOLDER).get("key_map");
        java.nio.file.Path peft = dir.resolve("peft.safetensors");
        try (PointerScope scope = new PointerScope();
             SafetensorsFile f = Fixtures.open(FOLDER + "/sd1_tiny_lora.safetensors")) {
            java.util.Map<String, org.bytedeco.pytorch.Tensor> out = new java.util.LinkedHashMap<>();
            for (var it = keyMap.fields(); it.hasNext(); ) {
                var e = it.next();
                String ckpt = e.getValue().asText();
                String path = ckpt.startsWith("model.diffusion_model.")
                        ? "unet." + table.get(ckpt.substring("model.diffusion_model.".length())).asText()
                        : "text_encoder." + ckpt.substring("cond_stage_model.transformer.".length());
                path = path.substring(0, path.length() - ".weight".length());
                var down = Tensors.readFloat(f, e.getKey() + ".lora_down.weight");
                var up = Tensors.readFloat(f, e.getKey() + ".lora_up.weight");
                double alpha = Tensors.toFloats(Tensors.readFloat(f, e.getKey() + ".alpha"))[0];
                out.put(path + ".lora_A.weight", down);
                out.put(path + ".lora_B.weight", up.mul(dev.ldm4j.nn.Ops.s(alpha / down.size(0))));
            }
            Tensors.write(peft, out);
        }
        LoraPatch patch = new LoraPatch(List.of(new LoraPatch.Applied(LoraFile.read(peft, "peft"), 0.8, 0.8)));
        assertEquals(154, patch.loras().get(0).file().modules().size());
        assertMergesToKohya(patch);
    }

    /** The patch, applied to sd1-tiny at load, gives every weight of kohya's merge at 0.8 and misses no module. */
    private static void assertMergesToKohya(LoraPatch patch) {
        String id = "merged_weights_m0.8";
        ModelConfig c = ModelConfig.fromYaml(Fixtures.path("sd1-tiny/config.yaml"));
        try (SafetensorsFile f = Fixtures.open("sd1-tiny/model.safetensors");
             SafetensorsFile cf = Fixtures.open(FOLDER + "/cases/" + id + ".safetensors");
             PointerScope scope = new PointerScope(); InferenceMode g = new InferenceMode()) {
            ParameterSource src = patch.apply(new CheckpointSource(f), c);
            for (String key : cf.keys()) {
                assertClose(Tensors.read(cf, key), src.get(key, f.info(key).shape()), tol(id, key), key);
            }
            assertEquals(List.of(), patch.unmatched());
        }
    }

    @Test
    void theMergedModelMatchesKohyasTextEncoderAndUNet() {
        LoraPatch patch = patch(0.8, 0.8);
        try (LatentDiffusionModel m = ModelLoader.load(new ModelLoader.Options(Fixtures.path("sd1-tiny/model.safetensors"),
                Fixtures.path("sd1-tiny/config.yaml"), null, null).withPatch(patch));
             InferenceMode g = new InferenceMode()) {
            assertEquals(0, patch.openFiles(), "the loader closes the LoRA file once the weights are read");
            var p = Fixtures.caseOf(FOLDER, "text_encoder_lora").path("params").path("prompts");
            List<String> prompts = List.of(p.get(0).asText(), p.get(1).asText());
            try (SafetensorsFile cf = Fixtures.open(FOLDER + "/cases/text_encoder_lora.safetensors")) {
                assertClose(Tensors.read(cf, "cond"), m.conditioner().encodePrompts(prompts, 0),
                        tol("text_encoder_lora", "cond"), "cond");
            }
            try (SafetensorsFile cf = Fixtures.open(FOLDER + "/cases/unet_lora_t1_t999.safetensors")) {
                var eps = m.unet().forward(Tensors.readFloat(cf, "x"), Tensors.readFloat(cf, "timesteps"),
                        Conditioning.crossAttn(Tensors.readFloat(cf, "context")));
                assertClose(Tensors.read(cf, "eps"), eps, tol("unet_lora_t1_t999", "eps"), "eps");
            }
        }
    }

    @Test
    void aLoraThatMatchesNothingIsRefusedNotIgnored(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        // SD 1.x text-encoder modules (lora_te_) against SDXL, whose CLIP tower kohya names lora_te1_
        java.nio.file.Path file = dir.resolve("te-only.safetensors");
        try (PointerScope scope = new PointerScope()) {
            String module = "lora_te_text_model_encoder_layers_0_mlp_fc1";
            Tensors.write(file, java.util.Map.of(module + ".lora_down.weight", Tensors.fromFloats(new float[2 * 16], 2, 16),
                    module + ".lora_up.weight", Tensors.fromFloats(new float[64 * 2], 64, 2)));
        }
        LoraPatch patch = new LoraPatch(List.of(new LoraPatch.Applied(LoraFile.read(file, "te-only"), 1, 1)));
        try (LatentDiffusionModel m = ModelLoader.load(new ModelLoader.Options(Fixtures.path("sdxl-tiny/model.safetensors"),
                Fixtures.path("sdxl-tiny/config.yaml"), null, null).withPatch(patch))) {
            assertEquals(List.of("te-only/lora_te_text_model_encoder_layers_0_mlp_fc1"), patch.unmatched());
            BadRequestException e = assertThrows(BadRequestException.class, patch::check);
            assertTrue(e.getMessage().contains("matched no weight"), e.getMessage());
        }
    }

    @Test
    void tagsAreParsedAsAutomatic1111Does() {
        LoraTags.Parsed p = LoraTags.parse("a cat <lora:style:0.7>, <LORA:detail:0.5:1.2> on a mat <lora:plain>");
        assertEquals("a cat ,  on a mat ", p.prompt());
        assertEquals(List.of(new LoraTags.Ref("style", 0.7, 0.7), new LoraTags.Ref("detail", 0.5, 1.2),
                new LoraTags.Ref("plain", 1, 1)), p.loras());
        assertEquals(new LoraTags.Ref("x", 0.3, 0.9), LoraTags.parse("<lora:x:te=0.3:unet=0.9>").loras().get(0));
        assertEquals(new LoraTags.Ref("x", 0.3, 0.3), LoraTags.parse("<lora:x:te=0.3>").loras().get(0));
        assertEquals(new LoraTags.Ref("neg", -1, -1), LoraTags.parse("<lora:neg:-1>").loras().get(0));
        assertThrows(BadRequestException.class, () -> LoraTags.parse("<lora::1>"));
        assertThrows(BadRequestException.class, () -> LoraTags.parse("<lora:x:lots>"));
        assertThrows(BadRequestException.class, () -> LoraTags.parse("<lora:x:1:2:3>"));
    }
}
