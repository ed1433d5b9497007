package dev.ldm4j.text;

import java.util.Map;

/** Typed reads from a parsed YAML map, with a default for keys the map leaves out. */
final class ConfigValues {
    private ConfigValues() {}

    static int intValue(Map<String, ?> map, String key, int fallback) {
        Object v = map.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
            return Math.toIntExact(n.longValue());
        }
        throw new IllegalArgumentException("text_model_config." + key + " must be an integer, found '" + v + "'");
    }

    static double doubleValue(Map<String, ?> map, String key, double fallback) {
        Object v = map.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw new IllegalArgumentException("text_model_config." + key + " must be a number, found '" + v + "'");
    }

    static String stringValue(Map<String, ?> map, String key, String fallback) {
        Object v = map.get(key);
        return v == null ? fallback : v.toString();
    }
}
