package dev.ldm4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.io.BadRequestException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The parameters-text parser of png-info and the typed field reads of request bodies. */
class InfoTextTest {
    @Test
    void multiLinePromptsQuotedValuesAndSize() {
        Map<String, String> p = InfoText.parse("a cat,\non a mat\nNegative prompt: ugly\nSteps: 20, Sampler: DPM++ 2M, "
                + "Schedule type: Karras, CFG scale: 7, Seed: 1, Size: 512x768, Model: sd, Lora hashes: \"a: 1, b: 2\", "
                + "Version: ldm4j");
        assertEquals("a cat,\non a mat", p.get("Prompt"));
        assertEquals("ugly", p.get("Negative prompt"));
        assertEquals("DPM++ 2M", p.get("Sampler"));
        assertEquals("512", p.get("Size-1"));
        assertEquals("768", p.get("Size-2"));
        assertEquals("a: 1, b: 2", p.get("Lora hashes"));
        assertEquals("ldm4j", p.get("Version"));
    }

    @Test
    void aTextWithoutFieldsIsAllPrompt() {
        assertEquals(Map.of("Prompt", "just words", "Negative prompt", ""), InfoText.parse("just words"));
        assertTrue(InfoText.parse("").isEmpty());
    }

    @Test
    void fieldsOfTheWrongTypeNameTheField() throws Exception {
        Fields f = new Fields(new ObjectMapper().readTree("{\"steps\": 20.0, \"cfg\": \"7\", \"n\": 2.5, \"s\": null}"));
        assertEquals(20, f.integer("steps", 1));
        assertEquals(3, f.integer("s", 3));
        assertTrue(assertThrows(BadRequestException.class, () -> f.number("cfg", 1)).getMessage().contains("'cfg'"));
        assertTrue(assertThrows(BadRequestException.class, () -> f.integer("n", 1)).getMessage().contains("'n'"));
        assertThrows(BadRequestException.class, () -> new Fields(new ObjectMapper().readTree("[1]")));
    }
}
