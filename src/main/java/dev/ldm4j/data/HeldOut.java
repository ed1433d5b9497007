package dev.ldm4j.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The fixed rule that sets aside about 5% of a dataset for evaluation. It depends on nothing but a name, so
 * it is the same on every machine, whatever the file order, and adding or removing files never moves the
 * others from one side to the other.
 *
 * <p><b>The rule:</b> a name is held out when the first four bytes of the SHA-256 of its UTF-8 bytes, read
 * as a big-endian unsigned integer, are {@code < 5} modulo 100. In a shell:
 * <pre>  h=$(printf %s "$NAME" | sha256sum | cut -c1-8); [ $(( 16#$h % 100 )) -lt 5 ] &amp;&amp; echo held out</pre>
 * The name is an example's file name relative to the dataset folder ({@code 1f600.png}).
 *
 * <p>A dataset folder may instead carry a {@value #SPLIT_FILE}: the held-out file names, one per line (blank
 * lines and lines starting with {@code #} ignored). When present it is authoritative. The emoji script
 * ({@code scripts/fetch-emoji-dataset.sh}) writes one that applies the rule above to a <em>group</em> name
 * (skin-tone variants, obsoleted emoji and byte-identical images form groups), so that near-identical
 * images never straddle the split.
 */
public final class HeldOut {
    public static final String SPLIT_FILE = "split.txt";
    public static final int PERCENT = 5;

    private HeldOut() {}

    /** Whether the rule holds {@code name} out. */
    public static boolean isHeldOut(String name) {
        byte[] d = sha256(name.getBytes(StandardCharsets.UTF_8));
        long v = ((d[0] & 0xffL) << 24) | ((d[1] & 0xffL) << 16) | ((d[2] & 0xffL) << 8) | (d[3] & 0xffL);
        return v % 100 < PERCENT;
    }

    /** The names listed in a split file. */
    static Set<String> readSplitFile(Path file) {
        try {
            Set<String> names = new LinkedHashSet<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String s = line.strip();
                if (s.startsWith("\uFEFF")) {
                    s = s.substring(1);
                }
                if (!s.isEmpty() && !s.startsWith("#")) {
                    names.add(s.replace('\\', '/'));
                }
            }
            return names;
        } catch (IOException e) {
            throw new DatasetException("split file " + file + " cannot be read (" + e.getMessage() + ")", e);
        }
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
