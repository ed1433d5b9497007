package dev.ldm4j.model;

import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A LoRA file's modules, by kohya module name: {@code lora_unet_} + the CompVis (or diffusers) UNet module path,
 * or {@code lora_te_} ({@code lora_te1_}, {@code lora_te2_} for SDXL) + the Hugging Face CLIP text model path,
 * dots replaced by underscores. Only the header is read here; the tensors when merged ({@link LoraPatch}).
 *
 * <p>Formats, each a {@link Kind}: kohya's LoRA and LyCORIS's LoCon ({@code lora_down.weight}, {@code
 * lora_up.weight}, optional {@code lora_mid.weight}, {@code alpha}); LyCORIS LoHa ({@code hada_w1_a} ...,
 * optional CP {@code hada_t1}/{@code hada_t2}); LoKr ({@code lokr_w1} or {@code lokr_w1_a/_b}, {@code lokr_w2}
 * or {@code lokr_w2_a/_b} with optional {@code lokr_t2}); full differences ({@code diff}, {@code diff_b} for
 * the bias). diffusers/PEFT files ({@code unet.<path>.lora_A.weight} / {@code lora_B.weight}, the older
 * {@code lora.down.weight} / {@code lora.up.weight} and attention-processor {@code to_q_lora.down.weight}
 * forms; {@code text_encoder.} / {@code text_encoder_2.}) are read into the same names: A is down, B is up,
 * and without an {@code alpha} the scale is 1, as diffusers loads them.
 */
public record LoraFile(Path path, String name, Map<String, Module> modules) {
    /** How a module's weight difference is built. */
    public enum Kind { LORA, LOHA, LOKR, DIFF }

    /**
     * One adapted module: its kind, its tensors by role (down, up, mid; w1a, w1b, w2a, w2b, t1, t2; w1, w2;
     * diff, diffBias) and its alpha (null: none stored).
     */
    public record Module(Kind kind, Map<String, String> tensors, String alpha) {
        public String tensor(String role) {
            return tensors.get(role);
        }
    }

    /** Tensor name suffix -> role, per kind; "alpha" is shared. */
    private static final Map<String, String[]> SUFFIXES = suffixes();

    private static Map<String, String[]> suffixes() {
        Map<String, String[]> m = new LinkedHashMap<>();
        m.put("lora_down.weight", new String[] {"LORA", "down"});
        m.put("lora_up.weight", new String[] {"LORA", "up"});
        m.put("lora_mid.weight", new String[] {"LORA", "mid"});
        m.put("hada_w1_a", new String[] {"LOHA", "w1a"});
        m.put("hada_w1_b", new String[] {"LOHA", "w1b"});
        m.put("hada_w2_a", new String[] {"LOHA", "w2a"});
        m.put("hada_w2_b", new String[] {"LOHA", "w2b"});
        m.put("hada_t1", new String[] {"LOHA", "t1"});
        m.put("hada_t2", new String[] {"LOHA", "t2"});
        m.put("lokr_w1", new String[] {"LOKR", "w1"});
        m.put("lokr_w1_a", new String[] {"LOKR", "w1a"});
        m.put("lokr_w1_b", new String[] {"LOKR", "w1b"});
        m.put("lokr_w2", new String[] {"LOKR", "w2"});
        m.put("lokr_w2_a", new String[] {"LOKR", "w2a"});
        m.put("lokr_w2_b", new String[] {"LOKR", "w2b"});
        m.put("lokr_t2", new String[] {"LOKR", "t2"});
        m.put("diff", new String[] {"DIFF", "diff"});
        m.put("diff_b", new String[] {"DIFF", "diffBias"});
        return m;
    }

    public static LoraFile read(Path path, String name) {
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            Set<String> keys = f.keys();
            Map<String, Module> modules = lycoris(path, keys);
            if (modules.isEmpty()) {
                modules = peft(path, keys);
            }
            if (modules.isEmpty()) {
                String example = keys.stream().filter(k -> !k.startsWith("__")).findFirst().orElse("(none)");
                throw new ModelFileException(path + ": not a LoRA file (keys like " + example + "); supported: kohya "
                        + "(NAME.lora_down.weight / lora_up.weight / alpha), LyCORIS (LoCon, LoHa, LoKr, diff) and "
                        + "diffusers/PEFT (lora_A / lora_B)");
            }
            return new LoraFile(path, name, Map.copyOf(modules));
        }
    }

    /** kohya and LyCORIS: NAME.<suffix>, one kind per module. */
    private static Map<String, Module> lycoris(Path path, Set<String> keys) {
        Map<String, Map<String, String>> roles = new LinkedHashMap<>();
        Map<String, Kind> kinds = new LinkedHashMap<>();
        for (String key : keys) {
            for (Map.Entry<String, String[]> s : SUFFIXES.entrySet()) {
                if (key.endsWith("." + s.getKey())) {
                    String module = key.substring(0, key.length() - s.getKey().length() - 1);
                    Kind kind = Kind.valueOf(s.getValue()[0]);
                    Kind before = kinds.putIfAbsent(module, kind);
                    if (before != null && before != kind) {
                        throw new ModelFileException(path + ": LoRA module " + module + " mixes " + before + " and "
                                + kind + " tensors");
                    }
                    roles.computeIfAbsent(module, k -> new LinkedHashMap<>()).put(s.getValue()[1], key);
                    break;
                }
            }
            if (key.endsWith(".dora_scale")) {
                throw new ModelFileException(path + ": " + key + ": DoRA (weight-decomposed) LoRAs are not supported yet");
            }
        }
        Map<String, Module> modules = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, String>> e : roles.entrySet()) {
            String module = e.getKey();
            Kind kind = kinds.get(module);
            Map<String, String> r = e.getValue();
            List<String> needed = switch (kind) {
                case LORA -> List.of("down", "up");
                case LOHA -> List.of("w1a", "w1b", "w2a", "w2b");
                case LOKR -> List.of();
                case DIFF -> List.of();
            };
            for (String role : needed) {
                if (!r.containsKey(role)) {
                    throw new ModelFileException(path + ": LoRA module " + module + " (" + kind + ") lacks its " + role
                            + " tensor");
                }
            }
            if (kind == Kind.LOKR && (!(r.containsKey("w1") || r.containsKey("w1a") && r.containsKey("w1b"))
                    || !(r.containsKey("w2") || r.containsKey("w2a") && r.containsKey("w2b")))) {
                throw new ModelFileException(path + ": LoKr module " + module + " lacks lokr_w1 (or _a/_b) or lokr_w2");
            }
            if (kind == Kind.LOHA && r.containsKey("t1") != r.containsKey("t2")) {
                throw new ModelFileException(path + ": LoHa module " + module + " has one CP core of two");
            }
            String alpha = module + ".alpha";
            modules.put(module, new Module(kind, Map.copyOf(r), keys.contains(alpha) ? alpha : null));
        }
        return modules;
    }

    /** diffusers/PEFT: A/B pairs under unet., text_encoder., text_encoder_2. */
    private static Map<String, Module> peft(Path path, Set<String> keys) {
        Map<String, Module> modules = new LinkedHashMap<>();
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
            modules.put(module, new Module(Kind.LORA, Map.of("down", key, "up", up), alpha));
        }
        return modules;
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
