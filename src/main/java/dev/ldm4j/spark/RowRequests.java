package dev.ldm4j.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.model.LoraTags;
import dev.ldm4j.pipeline.GenerationRequest;
import dev.ldm4j.server.A1111Request;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A row of the prompts table as a generation request. The row is read as the JSON body of an AUTOMATIC1111
 * txt2img call ({@link A1111Request}, the HTTP API's own reader): the same field names, types and checks, and the
 * same error messages naming the field. Before that its missing fields are filled with the batch's
 * {@link RowDefaults} (the CLI's defaults, not A1111's 50 steps and random seed), and what one row cannot mean is
 * refused: more than one image, an init image, LoRA tags.
 */
final class RowRequests {
    /** Ids become file names: letters, digits, '.', '_' and '-', not starting with a dot, at most 128. */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");

    /** Fields of img2img: a batch row is a txt2img request. */
    private static final List<String> IMG2IMG = List.of("init_images", "mask");

    private RowRequests() {}

    /** The row's {@code id} (a string or an integer), else its row number (1 for the first request). */
    static String id(JsonNode row, long rowNumber) {
        JsonNode id = row.get("id");
        if (id == null || id.isNull()) {
            return Long.toString(rowNumber);
        }
        String text = id.isTextual() || id.isIntegralNumber() ? id.asText() : null;
        if (text == null || !ID.matcher(text).matches()) {
            String shown = id.toString();
            throw new BadRequestException("field 'id' must be a string or integer usable as a file name (letters, "
                    + "digits, '.', '_', '-', at most 128, not starting with '.'), got "
                    + (shown.length() > 40 ? shown.substring(0, 40) + "..." : shown));
        }
        return text;
    }

    /** Whether the row leaves its seed to the job: no {@code seed}, null, or -1 (A1111's "random"). */
    static boolean derivesSeed(JsonNode row) {
        JsonNode s = row.get("seed");
        return s == null || s.isNull() || (s.isNumber() && s.asDouble() == -1);
    }

    /** The row's seed for the results table when its request could not be read: null when it is no integer. */
    static Long seedOrNull(JsonNode row, String id, RowDefaults d) {
        if (derivesSeed(row)) {
            return RowSeeds.derive(d.seed(), id);
        }
        JsonNode s = row.get("seed");
        return s.isIntegralNumber() && s.canConvertToLong() ? s.asLong() : null;
    }

    /** The request the row asks for; {@link BadRequestException} names the field that is wrong. */
    static GenerationRequest request(JsonNode row, String id, RowDefaults d) {
        if (!row.isObject()) {
            throw new BadRequestException("a row must be a JSON object, got " + abbreviated(row));
        }
        JsonNode corrupt = row.get("_corrupt_record");
        if (corrupt != null && !corrupt.isNull()) {
            throw new BadRequestException("not a valid row: " + abbreviated(corrupt));
        }
        for (String field : IMG2IMG) {
            if (row.hasNonNull(field)) {
                throw new BadRequestException("field '" + field + "': a batch row is a txt2img request (no init image "
                        + "or mask)");
            }
        }
        for (String field : List.of("batch_size", "n_iter")) {
            JsonNode n = row.get(field);
            if (n != null && !n.isNull() && !(n.isNumber() && n.asDouble() == 1)) {
                throw new BadRequestException("field '" + field + "' must be 1: each row makes one image (one row per "
                        + "image), got " + abbreviated(n));
            }
        }
        JsonNode prompt = row.get("prompt");
        if (prompt == null || prompt.isNull()) {
            throw new BadRequestException("field 'prompt' is missing (the table needs a 'prompt' column)");
        }
        ObjectNode body = ((ObjectNode) row).deepCopy();
        if (prompt.isTextual()) {
            // as generate does: tags leave the prompt; a tag that names a LoRA is refused, not silently dropped
            LoraTags.Parsed tags = LoraTags.parse(prompt.asText());
            if (!tags.loras().isEmpty()) {
                throw new BadRequestException("field 'prompt': LoRA tags (<lora:NAME:M>) are not supported in batch rows");
            }
            body.put("prompt", tags.prompt());
        }
        fill(body, "negative_prompt", d.negativePrompt());
        fill(body, "steps", d.steps());
        fill(body, "cfg_scale", d.cfgScale());
        if (absent(body, "sampler_name") && absent(body, "sampler_index")) {
            body.put("sampler_name", d.sampler());
        }
        fill(body, "scheduler", d.scheduler());
        fill(body, "width", d.width());
        fill(body, "height", d.height());
        if (derivesSeed(row)) {
            body.put("seed", RowSeeds.derive(d.seed(), id));
        }
        // clip skip 1 (the last layer, each model's own default) unless override_settings says otherwise
        A1111Request parsed = A1111Request.txt2img(body, new A1111Request.Defaults(d.width(), 1, d.latentFactor()));
        return parsed.iterations().get(0);
    }

    private static boolean absent(ObjectNode body, String field) {
        JsonNode n = body.get(field);
        return n == null || n.isNull();
    }

    private static void fill(ObjectNode body, String field, String value) {
        if (absent(body, field)) {
            body.put(field, value);
        }
    }

    private static void fill(ObjectNode body, String field, int value) {
        if (absent(body, field)) {
            body.put(field, value);
        }
    }

    private static void fill(ObjectNode body, String field, double value) {
        if (absent(body, field)) {
            body.put(field, value);
        }
    }

    private static String abbreviated(JsonNode n) {
        String s = n.isTextual() ? n.asText() : n.toString();
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }
}
