package dev.ldm4j.server;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.WeightFiles;
import dev.ldm4j.model.LoraFile;
import dev.ldm4j.model.LoraPatch;
import dev.ldm4j.model.LoraTags;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The LoRA files of {@code --lora-model-dir}, found by the NAME of a prompt's {@code <lora:NAME:M>} tag:
 * NAME.safetensors, .ckpt or .pt in the folder, as the CLI finds them, or else in its subfolders, as
 * AUTOMATIC1111 finds them (by file name alone, never by a path). Where subfolders hold two files of one name,
 * the first in name order, depth first, is the one used and listed; a file in the folder itself always wins.
 * Subfolders are searched as {@link FolderScan} says.
 */
final class LoraLibrary {
    /** One LoRA of a request: which file, how strongly. Equal sets mean equal merged weights. */
    record Use(String name, Path file, double textMultiplier, double unetMultiplier) {}

    private final Path dir;

    /** @param dir the folder, or null when the server takes no LoRAs */
    LoraLibrary(Path dir) {
        this.dir = dir;
    }

    /** The files of a request's tags; every unknown name is named in one 422. */
    List<Use> resolve(List<LoraTags.Ref> refs) {
        List<Use> out = new ArrayList<>();
        List<String> unknown = new ArrayList<>();
        for (LoraTags.Ref ref : refs) {
            Path file = find(ref.name());
            if (file == null) {
                unknown.add(ref.name());
            } else {
                out.add(new Use(ref.name(), file, ref.textMultiplier(), ref.unetMultiplier()));
            }
        }
        if (!unknown.isEmpty()) {
            throw new BadRequestException("field 'prompt': unknown LoRA " + String.join(", ", unknown)
                    + (dir == null ? " (this server has no --lora-model-dir)"
                    : " (no NAME.safetensors, .ckpt or .pt in " + dir.toAbsolutePath().normalize()
                    + " or its subfolders)"));
        }
        return List.copyOf(out);
    }

    /** The patch that merges {@code uses} at load, or null for none; reads the files. */
    static LoraPatch patch(List<Use> uses) {
        return uses.isEmpty() ? null : new LoraPatch(uses.stream().map(u -> new LoraPatch.Applied(
                LoraFile.read(u.file(), u.name()), u.textMultiplier(), u.unetMultiplier())).toList());
    }

    /** GET /sdapi/v1/loras. */
    List<Bodies.LoraItem> list() {
        if (dir == null) {
            return List.of();
        }
        return byName().entrySet().stream().map(e -> new Bodies.LoraItem(e.getKey(), e.getKey(),
                e.getValue().toAbsolutePath().toString(), Map.<String, Object>of())).toList();
    }

    private Path find(String name) {
        if (dir == null || name.contains("/") || name.contains("\\") || name.contains("..")) {
            return null;
        }
        Path top = WeightFiles.byName(dir, name);
        return top != null ? top : byName().get(name);
    }

    /** Every usable LoRA by name, in name order: for each name the file {@link #find} uses. */
    private Map<String, Path> byName() {
        Map<String, Path> out = new java.util.TreeMap<>();
        for (Path p : FolderScan.find(dir, WeightFiles::is, "LoRA folder")) {
            out.merge(ModelCatalog.stem(p), p, (kept, next) -> preferred(next, kept) ? next : kept);
        }
        return out;
    }

    /**
     * Whether {@code p} wins over {@code kept}, a file of the same name found before it: a file in the folder
     * itself over a subfolder's, and in one folder the extension that comes first in
     * {@link WeightFiles#EXTENSIONS}, the order the CLI tries them in; otherwise the first found (name order) stays.
     */
    private boolean preferred(Path p, Path kept) {
        boolean top = p.getParent().equals(dir);
        if (top != kept.getParent().equals(dir)) {
            return top;
        }
        return p.getParent().equals(kept.getParent()) && WeightFiles.rank(p) < WeightFiles.rank(kept);
    }
}
