package dev.ldm4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.Fixtures;
import java.io.IOException;
import java.io.InputStream;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every UNet key of sd1-tiny named in diffusers' layout as diffusers' own conversion script names it
 * (scripts/reference/diffusers_unet_keys.py: the table that script maps back key for key).
 */
class DiffusersUNetNamesTest {
    @Test
    void everyKeyIsNamedAsDiffusersConvertsIt() throws IOException {
        ModelConfig c = ModelConfig.fromYaml(Fixtures.path("sd1-tiny/config.yaml"));
        try (InputStream in = getClass().getResourceAsStream("diffusers-unet-keys.json")) {
            JsonNode table = new ObjectMapper().readTree(in).get("compvis_to_diffusers");
            int n = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = table.fields(); it.hasNext(); n++) {
                Map.Entry<String, JsonNode> e = it.next();
                assertEquals(e.getValue().asText(), DiffusersUNetNames.of(e.getKey(), c.unet()), e.getKey());
                assertEquals(e.getKey(), DiffusersUNetNames.toCompVis(e.getValue().asText(), c.unet()), e.getValue().asText());
            }
            assertEquals(494, n);
        }
    }

    /** sd1-tiny's VAE keys as diffusers' conversion script names them, and back, in both attention spellings. */
    @Test
    void vaeKeysAreNamedAsDiffusersConvertsThem() throws IOException {
        ModelConfig c = ModelConfig.fromYaml(Fixtures.path("sd1-tiny/config.yaml"));
        int levels = c.vae().chMult().length;
        try (InputStream in = getClass().getResourceAsStream("diffusers-unet-keys.json")) {
            JsonNode table = new ObjectMapper().readTree(in).get("vae_compvis_to_diffusers");
            int n = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = table.fields(); it.hasNext(); n++) {
                Map.Entry<String, JsonNode> e = it.next();
                assertEquals(e.getValue().asText(), DiffusersVaeNames.of(e.getKey(), levels), e.getKey());
                assertEquals(e.getKey(), DiffusersVaeNames.toCompVis(e.getValue().asText(), levels), e.getValue().asText());
                assertEquals(e.getKey(), DiffusersVaeNames.toCompVis(DiffusersVaeNames.modern(e.getKey(), levels), levels));
            }
            assertEquals(180, n);
        }
        assertEquals("decoder.mid_block.attentions.0.to_out.0.weight",
                DiffusersVaeNames.modern("decoder.mid.attn_1.proj_out.weight", 4));
    }

    /**
     * sdxl-tiny's OpenCLIP tower named in transformers' layout as diffusers' conversion script reads it back
     * (q/k/v split from in_proj), plus text_projection as a Linear weight.
     */
    @Test
    void openClipKeysAreNamedAsDiffusersConvertsThem() throws IOException {
        JsonNode table;
        try (InputStream in = getClass().getResourceAsStream("diffusers-unet-keys.json")) {
            table = new ObjectMapper().readTree(in).get("openclip_to_diffusers");
        }
        java.util.Set<String> expected = new java.util.TreeSet<>(java.util.List.of("text_projection.weight"));
        table.elements().forEachRemaining(names -> names.elements().forEachRemaining(n -> expected.add(n.asText())));
        try (dev.ldm4j.io.SafetensorsFile f = Fixtures.open("sdxl-tiny/model.safetensors")) {
            Map<String, dev.ldm4j.io.SafetensorsFile.Part> parts = new java.util.LinkedHashMap<>();
            Map<String, dev.ldm4j.io.SafetensorsFile.Memory> memory = new java.util.LinkedHashMap<>();
            DiffusersOpenClip.toDiffusers(f, "conditioner.embedders.1.model.", parts, memory);
            java.util.Set<String> mine = new java.util.TreeSet<>(parts.keySet());
            mine.addAll(memory.keySet());
            assertEquals(expected, mine);
        }
    }

    /** SDXL's layout (one ResBlock per level, no attention at the top level, label_emb): names go and come back. */
    @Test
    void sdxlKeysGoAndComeBack() {
        ModelConfig c = ModelConfig.fromYaml(Fixtures.path("sdxl-tiny/config.yaml"));
        try (dev.ldm4j.io.SafetensorsFile f = Fixtures.open("sdxl-tiny/model.safetensors")) {
            int n = 0;
            for (String key : f.keys()) {
                if (key.startsWith(Architecture.UNET)) {
                    String compvis = key.substring(Architecture.UNET.length());
                    String diffusers = DiffusersUNetNames.of(compvis, c.unet());
                    assertEquals(compvis, DiffusersUNetNames.toCompVis(diffusers, c.unet()), compvis + " -> " + diffusers);
                    n++;
                }
            }
            assertEquals(true, n > 100);
        }
    }
}
