package dev.ldm4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ldm4j.io.BadRequestException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The settings {@code /sdapi/v1/options} reads and writes. Two act: {@code sd_model_checkpoint} (it must name
 * the one model being served; the server does not switch models) and {@code CLIP_stop_at_last_layers} (the
 * CLIP skip of requests that do not override it). Others are kept and echoed, and logged as having no effect.
 */
final class ServerOptions {
    private static final Logger LOG = LoggerFactory.getLogger(ServerOptions.class);
    static final String CHECKPOINT = "sd_model_checkpoint";
    static final String CLIP_SKIP = "CLIP_stop_at_last_layers";

    private final ModelEntry model;
    private final Map<String, Object> values = new LinkedHashMap<>();

    ServerOptions(ModelEntry model) {
        this.model = model;
        values.put(CLIP_SKIP, 1);
        values.put("sd_vae", "Automatic");
        values.put("samples_format", "png");
        values.put("eta_ddim", 0.0);
        values.put("eta_ancestral", 1.0);
        values.put("randn_source", "CPU");
    }

    synchronized Map<String, Object> all() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put(CHECKPOINT, model.title());
        out.putAll(values);
        return out;
    }

    synchronized int clipSkip() {
        return (Integer) values.get(CLIP_SKIP);
    }

    /** Applies a partial map; nothing changes when any value is refused. */
    synchronized void update(JsonNode body) {
        Fields f = new Fields(body);
        if (f.present(CHECKPOINT)) {
            String wanted = f.text(CHECKPOINT, "");
            if (!model.isNamedBy(wanted)) {
                throw new BadRequestException("field '" + CHECKPOINT + "': this server serves " + model.title()
                        + " only (start another with -m to serve '" + wanted + "')");
            }
        }
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
