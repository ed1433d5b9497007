package dev.ldm4j.model;

import dev.ldm4j.io.DType;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.io.TensorInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.bytedeco.javacpp.PointerScope;

/**
 * What {@code ldm4j info} reports: the architecture, the dtypes and parameter counts per component, and the
 * keys the model classes would miss or ignore. Reads the header only (the model classes are built against a
 * {@link KeyAudit}, which hands out untouched tensors).
 */
public record ModelInfo(Path path, ModelConfig config, boolean configFromYaml, Map<String, Map<DType, Long>> counts,
                        List<String> missing, List<String> misShaped, Set<String> unused) {

    public static ModelInfo of(Path model, Path yaml) {
        try (ModelSource source = ModelSource.open(model, yaml); PointerScope scope = new PointerScope()) {
            SafetensorsFile f = source.file();
            ModelConfig c = source.config();
            Architecture arch = c.architecture();
            Map<String, Map<DType, Long>> counts = new TreeMap<>();
            for (String k : f.keys()) {
                TensorInfo t = f.info(k);
                String comp = arch.component(k);
                counts.computeIfAbsent(comp, x -> new TreeMap<>()).merge(t.dtype(), t.numel(), Long::sum);
            }
            KeyAudit audit = new KeyAudit(f);
            arch.assemble(audit, c, f);
            Set<String> unused = audit.unused();
            unused.removeIf(arch::expectedUnused);
            // a diffusers folder's config comes from its config.json files: as good as a YAML
            return new ModelInfo(model, c, !source.detected(), counts, audit.missing(), audit.misShaped(), unused);
        }
    }

    public String report() {
        StringBuilder sb = new StringBuilder();
        sb.append("file:          ").append(path).append('\n');
        sb.append("architecture:  ").append(config.describe()).append(configFromYaml ? "" : " [detected]").append('\n');
        if (!configFromYaml && config.architecture() == Architecture.SD2) {
            sb.append("               (eps or v is settled by a UNet probe when the model is loaded)\n");
        }
        sb.append("unet:          ").append(config.unet()).append('\n');
        sb.append("vae:           ").append(config.vae()).append('\n');
        sb.append("parameters:\n");
        counts.forEach((comp, byType) -> {
            long n = byType.values().stream().mapToLong(Long::longValue).sum();
            List<String> types = new ArrayList<>();
            byType.forEach((d, c) -> types.add(d + " " + c));
            sb.append(String.format(Locale.ROOT, "  %-13s %,15d  (%s)%n", comp, n, String.join(", ", types)));
        });
        section(sb, "missing keys", missing);
        section(sb, "mis-shaped keys", misShaped);
        section(sb, "unused keys", new ArrayList<>(unused));
        return sb.toString();
    }

    private static void section(StringBuilder sb, String title, List<String> keys) {
        sb.append(title).append(": ").append(keys.size()).append('\n');
        keys.stream().limit(20).forEach(k -> sb.append("  ").append(k).append('\n'));
        if (keys.size() > 20) {
            sb.append("  ... and ").append(keys.size() - 20).append(" more\n");
        }
    }
}
