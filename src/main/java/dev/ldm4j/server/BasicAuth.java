package dev.ldm4j.server;

import dev.ldm4j.io.BadRequestException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * {@code --api-auth user:pass[,user2:pass2]}: the HTTP basic credentials AUTOMATIC1111's {@code --api-auth}
 * takes. Comparisons take the same time whatever matches, so that timing does not tell a password.
 */
final class BasicAuth {
    /** Thrown by a route without valid credentials: 401 with a WWW-Authenticate challenge. */
    static final class Unauthorized extends RuntimeException {
        Unauthorized() {
            super("Incorrect username or password", null, false, false);
        }
    }

    private final List<byte[]> accepted;

    private BasicAuth(List<byte[]> accepted) {
        this.accepted = accepted;
    }

    /** Parses the flag's value; null or blank means no authentication. */
    static BasicAuth parse(String spec) {
        if (spec == null || spec.isBlank()) {
            return null;
        }
        List<byte[]> out = new ArrayList<>();
        for (String pair : spec.split(",")) {
            String p = pair.strip();
            int colon = p.indexOf(':');
            if (colon <= 0 || colon == p.length() - 1) {
                throw new BadRequestException("--api-auth takes user:password pairs separated by commas");
            }
            out.add(p.getBytes(StandardCharsets.UTF_8));
        }
        return new BasicAuth(List.copyOf(out));
    }

    /** Throws {@link Unauthorized} unless {@code header} (an Authorization value) carries accepted credentials. */
    void check(String header) {
        if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
            throw new Unauthorized();
        }
        byte[] given;
        try {
            given = Base64.getDecoder().decode(header.substring(6).strip());
        } catch (IllegalArgumentException e) {
            throw new Unauthorized();
        }
        boolean ok = false;
        for (byte[] a : accepted) {
            ok |= MessageDigest.isEqual(a, given);
        }
        if (!ok) {
            throw new Unauthorized();
        }
    }
}
