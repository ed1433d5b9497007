package dev.ldm4j.server;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.model.LoraFile;
import dev.ldm4j.model.LoraPatch;
import dev.ldm4j.model.LoraTags;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The LoRA files of {@code --lora-model-dir}, found by the NAME of a prompt's {@code <lora:NAME:M>} tag as the
 * CLI finds them: NAME.safetensors, .ckpt or .pt in the folder, never a path.
 */
final class LoraLibrary {
    private static final List<String> EXTENSIONS = List.of(".safetensors", ".ckpt", ".pt");

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
                    : " (no NAME.safetensors, .ckpt or .pt in " + dir.toAbsolutePath().normalize() + ")"));
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
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(LoraLibrary::isLora).sorted().map(p -> {
                String name = ModelCatalog.stem(p);
                return new Bodies.LoraItem(name, name, p.toAbsolutePath().toString(), Map.<String, Object>of());
            }).toList();
        } catch (IOException e) {
            throw new ModelFileException(dir + ": cannot list the LoRA folder (" + e.getMessage() + ")", e);
        }
    }

    private Path find(String name) {
        if (dir == null || name.contains("/") || name.contains("\\") || name.contains("..")) {
            return null;
        }
        for (String ext : EXTENSIONS) {
            Path p = dir.resolve(name + ext);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    private static boolean isLora(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(p) && EXTENSIONS.stream().anyMatch(n::endsWith);
    }
}
