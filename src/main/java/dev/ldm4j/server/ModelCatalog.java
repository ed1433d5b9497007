package dev.ldm4j.server;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.InputFiles;
import dev.ldm4j.io.WeightFiles;
import dev.ldm4j.model.DiffusersFolder;
import dev.ldm4j.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The checkpoints a client may switch to: the files of {@code --models-dir} ({@code .safetensors}, {@code .ckpt},
 * {@code .pt} and diffusers folders, in subfolders too, as AUTOMATIC1111 lists its models folder; hidden folders
 * and the insides of diffusers folders are not searched), plus the {@code -m} model when it lies elsewhere. Entries
 * are kept across rescans while a file's size and mtime are unchanged, so that a hash computed once (seconds
 * for a multi-GB file) is not computed again.
 */
final class ModelCatalog {
    /** What identifies an unchanged file between scans. */
    private record Stamp(Path file, long size, long modifiedMillis) {}

    private final Path dir;
    private final ModelEntry fixed;
    private final Map<Stamp, ModelEntry> known = new HashMap<>();
    private List<ModelEntry> entries = List.of();

    /**
     * @param dir   the models folder, or null for none
     * @param fixed the {@code -m} model, or null
     */
    ModelCatalog(Path dir, ModelEntry fixed) {
        this.dir = dir;
        this.fixed = fixed;
        refresh();
    }

    synchronized List<ModelEntry> entries() {
        return entries;
    }

    /** Rescans the folder (refresh-checkpoints). */
    synchronized void refresh() {
        List<ModelEntry> out = new ArrayList<>();
        if (fixed != null) {
            out.add(fixed);
        }
        if (dir != null) {
            Map<Stamp, ModelEntry> kept = new HashMap<>();
            for (Path p : scan()) {
                if (fixed != null && sameFile(p, fixed.file())) {
                    continue;
                }
                Stamp stamp = stamp(p);
                ModelEntry e = known.get(stamp);
                if (e == null) {
                    String listed = relative(p);
                    e = new ModelEntry(p, ModelConfig.configFor(p, null), modelName(listed, p), listed);
                }
                kept.put(stamp, e);
                out.add(e);
            }
            known.clear();
            known.putAll(kept);
        }
        entries = List.copyOf(out);
    }

    /**
     * The entry a client's {@code sd_model_checkpoint} names (a title, a file name, a name or a short hash).
     * Names are looked up among the listed entries only, so no value can reach a file outside the folder.
     */
    synchronized ModelEntry resolve(String value) {
        String v = value == null ? "" : value.strip();
        // only listed entries can match in any case; a path that is not a listed one is refused with a message
        // that says why ("sub/x.safetensors", a listed title, is a name)
        if (v.isEmpty() || v.startsWith("/") || v.contains("\\") || v.contains("..") || v.indexOf('\0') >= 0) {
            throw new BadRequestException("field 'sd_model_checkpoint': '" + value + "' is not a checkpoint name"
                    + " (give a title or file name from /sdapi/v1/sd-models; paths are refused)");
        }
        for (ModelEntry e : entries) {
            if (e.isNamedBy(v)) {
                return e;
            }
        }
        throw new BadRequestException("field 'sd_model_checkpoint': no checkpoint '" + v + "'"
                + (dir == null ? " (this server has no --models-dir)" : " in " + dir.toAbsolutePath().normalize()));
    }

    private List<Path> scan() {
        return FolderScan.find(dir, ModelCatalog::isCheckpoint, "models folder");
    }

    /** Its path in the models folder, "/"-separated on every system, as a title shows it. */
    private String relative(Path p) {
        Path r = dir.relativize(p);
        List<String> parts = new ArrayList<>();
        r.forEach(part -> parts.add(part.toString()));
        return String.join("/", parts);
    }

    /** AUTOMATIC1111's model name: the path in the folder with "_" for "/", and the file's {@link #stem}. */
    private static String modelName(String listedAs, Path p) {
        int slash = listedAs.lastIndexOf('/');
        return listedAs.substring(0, slash + 1).replace('/', '_') + stem(p);
    }

    private static boolean isCheckpoint(Path p) {
        return WeightFiles.is(p) || DiffusersFolder.is(p);
    }

    static String stem(Path p) {
        return Files.isDirectory(p) ? p.getFileName().toString() : InputFiles.stem(p);
    }

    private static Stamp stamp(Path p) {
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            return new Stamp(p.toAbsolutePath().normalize(), a.size(), a.lastModifiedTime().toMillis());
        } catch (IOException e) {
            return new Stamp(p.toAbsolutePath().normalize(), -1, -1);
        }
    }

    private static boolean sameFile(Path a, Path b) {
        return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }
}
