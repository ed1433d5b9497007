package dev.ldm4j.server;

import dev.ldm4j.io.ModelFileException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A checkpoint as AUTOMATIC1111 lists it: title "sub/file.safetensors [short hash]" (its path in the models
 * folder, "/"-separated, and the first 10 hex digits of the file's SHA-256), model name "sub_file". The hash is
 * computed on first use (seconds for a 2 GB file), so that the server starts at once and a listing of many models
 * does not read them all; until then the title is the path alone.
 */
final class ModelEntry {
    private final Path file;
    private final Path config;
    private final String name;
    private final String listedAs;
    private final String stem;
    private String sha256;
    private boolean hashed;

    /** A checkpoint outside the models folder ({@code -m}): listed by its file name. */
    ModelEntry(Path file, Path config, String name) {
        this(file, config, name, file.getFileName().toString());
    }

    /**
     * @param listedAs its path relative to the models folder, "/"-separated: the title's first part
     */
    ModelEntry(Path file, Path config, String name, String listedAs) {
        this.file = file;
        this.config = config;
        this.name = name;
        this.listedAs = listedAs;
        this.stem = ModelCatalog.stem(file);
    }

    String name() {
        return name;
    }

    Path file() {
        return file;
    }

    /** Its YAML config, or null when detected from the checkpoint. */
    Path config() {
        return config;
    }

    synchronized String sha256() {
        if (!hashed) {
            hashed = true;
            sha256 = Files.isRegularFile(file) ? digest(file) : null; // a diffusers folder has no one hash
        }
        return sha256;
    }

    /** The hash if it was computed already, else null: a listing does not read every file. */
    synchronized String knownSha256() {
        return sha256;
    }

    /** The title with the hash once known. */
    String title() {
        String h = knownSha256();
        return listedAs + (h == null ? "" : " [" + h.substring(0, 10) + "]");
    }

    /**
     * Whether a client's sd_model_checkpoint value names this model: its title, path in the folder, file name,
     * model name, file name without extension, or short hash.
     */
    boolean isNamedBy(String value) {
        String v = value.strip();
        String h = knownSha256();
        return v.equals(title()) || v.equals(listedAs) || v.equals(file.getFileName().toString()) || v.equals(name)
                || v.equals(stem) || v.startsWith(listedAs + " [")
                || h != null && v.equals(h.substring(0, 10));
    }

    /** Its sd-models item; the hash only when known (the served model's is computed when it is listed). */
    Bodies.SdModelItem item() {
        String h = knownSha256();
        return new Bodies.SdModelItem(title(), name, h == null ? null : h.substring(0, 10), h,
                file.toAbsolutePath().toString(), config == null ? null : config.toAbsolutePath().toString());
    }

    private static String digest(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) > 0; ) {
                md.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new ModelFileException(file + ": cannot read (" + e.getMessage() + ")", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JVM has SHA-256
        }
    }
}
