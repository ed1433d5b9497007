package dev.ldm4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The settings {@code /sdapi/v1/options} reads and writes. Two act: {@code sd_model_checkpoint} (read from the
 * served model; {@link A1111Api} switches models before the rest is applied) and {@code CLIP_stop_at_last_layers}
 * (the CLIP skip of requests that do not override it). Others are kept and echoed, and logged as having no
 * effect.
 */
final class ServerOptions {
    private static final Logger LOG = LoggerFactory.getLogger(ServerOptions.class);
    static final String CHECKPOINT = "sd_model_checkpoint";
    static final String CLIP_SKIP = "CLIP_stop_at_last_layers";

    private final Supplier<String> checkpoint;
    private final Map<String, Object> values = new LinkedHashMap<>();

    /** @param checkpoint the title of the served model, as it is now */
    ServerOptions(Supplier<String> checkpoint) {
        this.checkpoint = checkpoint;
        values.put(CLIP_SKIP, 1);
        values.put("sd_vae", "Automatic");
        values.put("samples_format", "png");
        values.put("eta_ddim", 0.0);
        values.put("eta_ancestral", 1.0);
        values.put("randn_source", "CPU");
    }

    synchronized Map<String, Object> all() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put(CHECKPOINT, checkpoint.get());
        out.putAll(values);
        return out;
    }

    synchronized int clipSkip() {
        return (Integer) values.get(CLIP_SKIP);
    }

    /** Applies a partial map but its checkpoint; nothing changes when any value is refused. */
    synchronized void update(JsonNode body) {
        Fields f = new Fields(body);
        int clipSkip = f.integer(CLIP_SKIP, clipSkip(), 1, 12);
        body.fields().forEachRemaining(e -> {
            String key = e.getKey();
            if (!key.equals(CHECKPOINT) && !key.equals(CLIP_SKIP)) {
                LOG.warn("option '{}' is stored but has no effect in ldm4j", key);
                values.put(key, e.getValue());
            }
        });
        values.put(CLIP_SKIP, clipSkip);
    }
}
