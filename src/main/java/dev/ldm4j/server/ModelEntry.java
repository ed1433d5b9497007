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
 * The served checkpoint as AUTOMATIC1111 lists it: title "file.safetensors [short hash]", the hash being the
 * first 10 hex digits of the file's SHA-256. The hash is computed on first use (seconds for a 2 GB file), so
 * that the server starts at once.
 */
final class ModelEntry {
    private final Path file;
    private final Path config;
    private final String name;
    private String sha256;
    private boolean hashed;

    ModelEntry(Path file, Path config, String name) {
        this.file = file;
        this.config = config;
        this.name = name;
    }

    String name() {
        return name;
    }

    synchronized String sha256() {
        if (!hashed) {
            hashed = true;
            sha256 = Files.isRegularFile(file) ? digest(file) : null; // a diffusers folder has no one hash
        }
        return sha256;
    }

    String shortHash() {
        String h = sha256();
        return h == null ? null : h.substring(0, 10);
    }

    String title() {
        String h = shortHash();
        return file.getFileName() + (h == null ? "" : " [" + h + "]");
    }

    /** Whether a client's sd_model_checkpoint value names this model (title, file name or name). */
    boolean isNamedBy(String value) {
        String v = value.strip();
        return v.equals(title()) || v.equals(file.getFileName().toString()) || v.equals(name)
                || v.startsWith(file.getFileName() + " [") || v.equals(shortHash());
    }

    Bodies.SdModelItem item() {
        return new Bodies.SdModelItem(title(), name, shortHash(), sha256(), file.toAbsolutePath().toString(),
                config == null ? null : config.toAbsolutePath().toString());
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
