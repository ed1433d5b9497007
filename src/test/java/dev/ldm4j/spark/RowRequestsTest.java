package dev.ldm4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.pipeline.GenerationRequest;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A row of the batch table read as an AUTOMATIC1111 request, with the CLI's defaults where it says nothing. */
class RowRequestsTest {
    private static final RowDefaults DEFAULTS = new RowDefaults("", 20, 7.0, "euler_a", "automatic", 64, 48, 42, 8);
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode row(String json) throws Exception {
        return JSON.readTree(json);
    }

    @Test
    void aRowWithOnlyAPromptIsTheRequestOfGenerateWithItsDefaults() throws Exception {
        GenerationRequest r = RowRequests.request(row("{\"prompt\": \"a cat\"}"), "7", DEFAULTS);
        // what `ldm4j generate -p "a cat" -W 64 -H 48` asks for, the seed aside
        GenerationRequest cli = new GenerationRequest("a cat", "", 64, 48, 20, 7.0, "euler_a", "automatic", 0, r.seed(),
                1, 0, null);
        assertEquals(cli, r);
        assertEquals(RowSeeds.derive(42, "7"), r.seed());
    }

    @Test
    void theRowsFieldsWinInA1111Spelling() throws Exception {
        GenerationRequest r = RowRequests.request(row("{\"prompt\": \"p\", \"negative_prompt\": \"n\", \"seed\": 5, "
                + "\"steps\": 3, \"cfg_scale\": 4.5, \"sampler_name\": \"DPM++ 2M\", \"scheduler\": \"Karras\", "
                + "\"width\": 32, \"height\": 16, \"override_settings\": {\"CLIP_stop_at_last_layers\": 2}}"), "x",
                DEFAULTS);
        assertEquals(new GenerationRequest("p", "n", 32, 16, 3, 4.5, "dpm++2m", "karras", 0, 5, 1, 2, null), r);
        // sampler_index is the field of A1111's first API versions
        assertEquals("ddim", RowRequests.request(row("{\"prompt\": \"p\", \"sampler_index\": \"DDIM\"}"), "x", DEFAULTS)
                .sampler());
    }

    @Test
    void seedMinusOneAndNullAreDerivedFromTheId() throws Exception {
        long derived = RowSeeds.derive(42, "a");
        assertEquals(derived, RowRequests.request(row("{\"prompt\": \"p\", \"seed\": -1}"), "a", DEFAULTS).seed());
        assertEquals(derived, RowRequests.request(row("{\"prompt\": \"p\", \"seed\": null}"), "a", DEFAULTS).seed());
    }

    @Test
    void derivedSeedsDependOnTheJobSeedAndTheIdOnlyAndAreA1111Seeds() {
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            long s = RowSeeds.derive(42, Integer.toString(i));
            assertTrue(s >= 0 && s <= 0xffffffffL, Long.toString(s));
            seen.add(s);
            assertEquals(s, RowSeeds.derive(42, Integer.toString(i)));
        }
        assertEquals(1000, seen.size(), "no collisions among 1000 ids");
        assertNotEquals(RowSeeds.derive(42, "a"), RowSeeds.derive(43, "a"));
        assertNotEquals(RowSeeds.derive(42, "ab"), RowSeeds.derive(42, "ba"));
    }

    @Test
    void idsAreTheColumnOrTheRowNumberAndMustBeFileNames() throws Exception {
        assertEquals("12", RowRequests.id(row("{\"prompt\": \"p\"}"), 12));
        assertEquals("cat-1.v2", RowRequests.id(row("{\"id\": \"cat-1.v2\"}"), 12));
        assertEquals("5", RowRequests.id(row("{\"id\": 5}"), 12));
        for (String bad : new String[] {"\"../x\"", "\".hidden\"", "\"a/b\"", "\"\"", "1.5", "true", "\"a b\""}) {
            BadRequestException e = assertThrows(BadRequestException.class,
                    () -> RowRequests.id(row("{\"id\": " + bad + "}"), 1), bad);
            assertTrue(e.getMessage().startsWith("field 'id'"), e.getMessage());
        }
    }

    @Test
    void whatOneRowCannotMeanIsRefusedNamingTheField() throws Exception {
        String[][] cases = {
            {"{\"steps\": 3}", "field 'prompt' is missing"},
            {"{\"prompt\": \"p\", \"batch_size\": 2}", "field 'batch_size' must be 1"},
            {"{\"prompt\": \"p\", \"n_iter\": 3}", "field 'n_iter' must be 1"},
            {"{\"prompt\": \"p\", \"init_images\": [\"abc\"]}", "field 'init_images'"},
            {"{\"prompt\": \"a <lora:x:1>\"}", "LoRA tags"},
            {"{\"prompt\": \"p\", \"width\": 63}", "multiples of 8"},
            {"{\"prompt\": \"p\", \"sampler_name\": \"nope\"}", "unknown sampler 'nope'"},
            {"{\"prompt\": \"p\", \"steps\": \"many\"}", "field 'steps' must be an integer"},
            {"{\"prompt\": \"p\", \"seed\": 1.5}", "field 'seed' must be an integer"},
            {"{\"prompt\": \"p\", \"seed\": -7}", "field 'seed' must be -1"},
            {"{\"prompt\": \"p\", \"_corrupt_record\": \"{oops\"}", "not a valid row"},
        };
        for (String[] c : cases) {
            BadRequestException e = assertThrows(BadRequestException.class,
                    () -> RowRequests.request(row(c[0]), "1", DEFAULTS), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
        }
    }

    @Test
    void progressLineCountsRateAndTimeLeft() {
        assertEquals("batch: 3/10 rows (1 skipped, 0 failed), 2.0 rows/min, ETA 0:03:30",
                BatchProgress.line(3, 1, 0, 10, 60));
        assertEquals("batch: 2/10 rows (2 skipped, 0 failed), 0.0 rows/min, ETA --", BatchProgress.line(2, 2, 0, 10, 5));
        assertEquals("batch: 10/10 rows (0 skipped, 1 failed), 600.0 rows/min, done",
                BatchProgress.line(10, 0, 1, 10, 1));
    }
}
