package dev.ldm4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ldm4j.io.BadRequestException;

/**
 * Typed reads of a JSON request body's fields: an absent or null field gives the default, a field of the wrong
 * type is the client's error and names the field (HTTP 422).
 */
final class Fields {
    private final JsonNode body;

    Fields(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw new BadRequestException("the request body must be a JSON object");
        }
        this.body = body;
    }

    JsonNode node(String name) {
        JsonNode n = body.get(name);
        return n == null || n.isNull() ? null : n;
    }

    boolean present(String name) {
        return node(name) != null;
    }

    String text(String name, String fallback) {
        JsonNode n = node(name);
        if (n == null) {
            return fallback;
        }
        if (!n.isTextual()) {
            throw wrongType(name, "a string", n);
        }
        return n.asText();
    }

    long integer(String name, long fallback) {
        JsonNode n = node(name);
        if (n == null) {
            return fallback;
        }
        // 20.0 is an integer to Python's pydantic too; 20.5 is not
        if (!n.isIntegralNumber() && !(n.isNumber() && n.asDouble() == Math.rint(n.asDouble()))
                || !n.canConvertToLong()) {
            throw wrongType(name, "an integer", n);
        }
        return n.asLong();
    }

    /** An integer field that must lie in {@code min..max}. */
    int integer(String name, int fallback, int min, int max) {
        long v = integer(name, fallback);
        if (v < min || v > max) {
            throw new BadRequestException("field '" + name + "' must be in " + min + ".." + max + ", got " + v);
        }
        return (int) v;
    }

    double number(String name, double fallback) {
        JsonNode n = node(name);
        if (n == null) {
            return fallback;
        }
        if (!n.isNumber() || !Double.isFinite(n.asDouble())) {
            throw wrongType(name, "a finite number", n);
        }
        return n.asDouble();
    }

    boolean bool(String name, boolean fallback) {
        JsonNode n = node(name);
        if (n == null) {
            return fallback;
        }
        if (!n.isBoolean()) {
            throw wrongType(name, "true or false", n);
        }
        return n.asBoolean();
    }

    /** A nested object (override_settings); empty when absent. */
    Fields object(String name) {
        JsonNode n = node(name);
        if (n == null) {
            return new Fields(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode());
        }
        if (!n.isObject()) {
            throw wrongType(name, "an object", n);
        }
        return new Fields(n);
    }

    private static BadRequestException wrongType(String name, String expected, JsonNode got) {
        String shown = got.toString();
        return new BadRequestException("field '" + name + "' must be " + expected + ", got "
                + (shown.length() > 40 ? shown.substring(0, 40) + "..." : shown));
    }
}
