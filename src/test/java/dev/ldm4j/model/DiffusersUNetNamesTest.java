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
            }
            assertEquals(494, n);
        }
    }
}
