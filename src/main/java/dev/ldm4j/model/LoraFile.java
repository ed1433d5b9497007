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
 *
 * <p>diffusers/PEFT files ({@code unet.<path>.lora_A.weight} / {@code lora_B.weight}, the older
 * {@code lora.down.weight} / {@code lora.up.weight} and attention-processor {@code to_q_lora.down.weight}
 * forms; {@code text_encoder.} / {@code text_encoder_2.}) are read into the same module names: A is down, B is
 * up, and without an {@code alpha} the scale is 1 (alpha = r), as diffusers loads them.
 */
public record LoraFile(Path path, String name, Map<String, Module> modules) {
    /** The keys of one adapted module. */
    public record Module(String down, String up, String alpha) {}

    public static LoraFile read(Path path, String name) {
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            Map<String, Module> modules = new LinkedHashMap<>();
            Set<String> keys = f.keys();
            for (String key : keys) {
                if (key.endsWith(".lora_down.weight")) {
                    String module = key.substring(0, key.length() - ".lora_down.weight".length());
                    String up = module + ".lora_up.weight";
                    if (!keys.contains(up)) {
                        throw new ModelFileException(path + ": LoRA module " + module + " has lora_down but no lora_up");
                    }
                    String alpha = module + ".alpha";
                    modules.put(module, new Module(key, up, keys.contains(alpha) ? alpha : null));
                }
            }
            if (modules.isEmpty()) {
                boolean sdxl = keys.stream().anyMatch(k -> k.startsWith("text_encoder_2."));
                for (String key : keys) {
                    String[] downUp = peftPair(key);
                    if (downUp == null) {
                        continue;
                    }
                    String base = key.substring(0, key.length() - downUp[0].length());
                    String up = base + downUp[1];
                    if (!keys.contains(up)) {
                        throw new ModelFileException(path + ": LoRA module " + base + " has " + downUp[0] + " but no "
                                + downUp[1]);
                    }
                    String module = kohyaName(base, sdxl);
                    if (module == null) {
                        throw new ModelFileException(path + ": LoRA key " + key + " is not under unet., text_encoder. "
                                + "or text_encoder_2.");
                    }
                    String alpha = keys.contains(base + ".alpha") ? base + ".alpha" : null;
                    modules.put(module, new Module(key, up, alpha));
                }
            }
            if (modules.isEmpty()) {
                String example = keys.stream().filter(k -> !k.startsWith("__")).findFirst().orElse("(none)");
                String kind = keys.stream().anyMatch(k -> k.contains("hada_") || k.contains("lokr_"))
                        ? "a LyCORIS LoHa/LoKr" : "not a kohya or diffusers LoRA";
                throw new ModelFileException(path + ": " + kind + " (keys like " + example + "); supported: kohya "
                        + "(NAME.lora_down.weight / lora_up.weight / alpha) and diffusers/PEFT (lora_A / lora_B)");
            }
            return new LoraFile(path, name, Map.copyOf(modules));
        }
    }

    /** The down and up suffixes of a diffusers/PEFT down key, or null. */
    private static String[] peftPair(String key) {
        for (String[] pair : new String[][] {{".lora_A.weight", ".lora_B.weight"}, {".lora.down.weight", ".lora.up.weight"},
            {"_lora.down.weight", "_lora.up.weight"}}) {
            if (key.endsWith(pair[0])) {
                return pair;
            }
        }
        return null;
    }

    /** A diffusers module path as kohya names it: lora_unet_ / lora_te_ (lora_te1_, lora_te2_ for SDXL). */
    private static String kohyaName(String base, boolean sdxl) {
        String path = base.replace(".processor.", ".");
        String prefix;
        if (path.startsWith("unet.")) {
            prefix = "lora_unet_";
            path = path.substring(5);
        } else if (path.startsWith("text_encoder_2.")) {
            prefix = "lora_te2_";
            path = path.substring(15);
        } else if (path.startsWith("text_encoder.")) {
            prefix = sdxl ? "lora_te1_" : "lora_te_";
            path = path.substring(13);
        } else {
            return null;
        }
        // attention processors name their projections to_q_lora, to_out_lora (the Linear is to_out.0)
        path = path.replace("to_out_lora", "to_out.0").replaceAll("(to_[qkv])_lora$", "$1");
        return prefix + path.replace('.', '_');
    }
}
