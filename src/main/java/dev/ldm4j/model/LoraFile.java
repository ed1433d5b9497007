package dev.ldm4j.model;

import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A LoRA in kohya-ss/sd-scripts' format (what AUTOMATIC1111 and stable-diffusion.cpp read): per adapted module
 * NAME the tensors {@code NAME.lora_down.weight} [r, in(, kh, kw)], {@code NAME.lora_up.weight} [out, r(, 1,
 * 1)] and optionally {@code NAME.alpha} (0-dim; missing means alpha = r). NAME is {@code lora_unet_} + the
 * CompVis UNet module path, or {@code lora_te_} ({@code lora_te1_} for SDXL's CLIP tower) + the Hugging Face
 * CLIP text model path, dots replaced by underscores. Only the header is read here; the tensors when merged.
 */
public record LoraFile(Path path, String name, Map<String, Module> modules) {
    /** The keys of one adapted module. */
    public record Module(String down, String up, String alpha) {}

    public static LoraFile read(Path path, String name) {
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            Map<String, Module> modules = new LinkedHashMap<>();
            Set<String> keys = f.keys();
            for (String key : keys) {
                if (!key.endsWith(".lora_down.weight")) {
                    continue;
                }
                String module = key.substring(0, key.length() - ".lora_down.weight".length());
                String up = module + ".lora_up.weight";
                if (!keys.contains(up)) {
                    throw new ModelFileException(path + ": LoRA module " + module + " has lora_down but no lora_up");
                }
                String alpha = module + ".alpha";
                modules.put(module, new Module(key, up, keys.contains(alpha) ? alpha : null));
            }
            if (modules.isEmpty()) {
                String example = keys.stream().filter(k -> !k.startsWith("__")).findFirst().orElse("(none)");
                String kind = keys.stream().anyMatch(k -> k.contains("lora_A") || k.contains(".lora.down"))
                        ? "a diffusers/PEFT LoRA" : keys.stream().anyMatch(k -> k.contains("hada_") || k.contains("lokr_"))
                        ? "a LyCORIS LoHa/LoKr" : "not a kohya LoRA";
                throw new ModelFileException(path + ": " + kind + " (keys like " + example + "); only the kohya "
                        + "format (NAME.lora_down.weight / lora_up.weight / alpha) is supported yet");
            }
            return new LoraFile(path, name, Map.copyOf(modules));
        }
    }
}
