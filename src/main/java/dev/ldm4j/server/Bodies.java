package dev.ldm4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/** The response bodies, with AUTOMATIC1111's field names (its API's pydantic models, by shape). */
final class Bodies {
    private Bodies() {}

    /** txt2img and img2img; {@code info} is a JSON document in a string, as A1111 sends it. */
    record Images(List<String> images, JsonNode parameters, String info) {}

    record Progress(double progress, double eta_relative, Map<String, Object> state, String current_image,
                    String textinfo) {}

    record SamplerItem(String name, List<String> aliases, Map<String, Object> options) {}

    record SchedulerItem(String name, String label, List<String> aliases, Double default_rho,
                         Boolean need_inner_model) {}

    record SdModelItem(String title, String model_name, String hash, String sha256, String filename, String config) {}

    record LoraItem(String name, String alias, String path, Map<String, Object> metadata) {}

    record VaeItem(String model_name, String filename) {}

    record UpscalerItem(String name, String model_name, String model_path, String model_url, double scale) {}

    record LatentUpscaleMode(String name) {}

    record Embeddings(Map<String, EmbeddingItem> loaded, Map<String, EmbeddingItem> skipped) {}

    /** One embedding as A1111 lists it; ldm4j reads no training metadata, so step and checkpoint are null. */
    record EmbeddingItem(Integer step, String sd_checkpoint, String sd_checkpoint_name, Integer shape,
                         Integer vectors) {}

    record PngInfo(String info, Map<String, String> items, Map<String, String> parameters) {}

    /** A1111's error body for its own (non-validation) errors; a 422 here carries the field in the messages. */
    record Error(String error, String detail, String body, String errors) {}
}
