package dev.ldm4j.model;

import java.util.List;
import java.util.Map;

/** Typed access to the nested maps SnakeYAML returns, with errors that name the config and the key. */
final class YamlMaps {
    private final String source;

    YamlMaps(String source) {
        this.source = source;
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> map(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof Map)) {
            throw new UnsupportedModelException(source + ": missing or malformed section '" + key + "'");
        }
        return (Map<String, Object>) v;
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> mapOrEmpty(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v instanceof Map ? (Map<String, Object>) v : Map.of();
    }

    int integer(Map<String, Object> m, String key, int dflt) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if ((v instanceof Integer || v instanceof Long || v instanceof java.math.BigInteger)
                && ((Number) v).longValue() == ((Number) v).doubleValue()
                && Math.abs(((Number) v).longValue()) <= Integer.MAX_VALUE) {
            return ((Number) v).intValue();
        }
        throw new UnsupportedModelException(source + ": '" + key + "' should be a whole number, found " + v);
    }

    double number(Map<String, Object> m, String key, double dflt) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Number n && Double.isFinite(n.doubleValue())) {
            return n.doubleValue();
        }
        throw new UnsupportedModelException(source + ": '" + key + "' should be a finite number, found " + v);
    }

    boolean bool(Map<String, Object> m, String key, boolean dflt) {
        Object v = m.get(key);
        return v instanceof Boolean b ? b : dflt;
    }

    String string(Map<String, Object> m, String key, String dflt) {
        Object v = m.get(key);
        return v == null ? dflt : v.toString();
    }

    int[] ints(Map<String, Object> m, String key, int[] dflt) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof List<?> l) {
            int[] out = new int[l.size()];
            for (int i = 0; i < out.length; i++) {
                if (!(l.get(i) instanceof Number n)) {
                    throw new UnsupportedModelException(source + ": '" + key + "' should be a list of numbers");
                }
                out[i] = n.intValue();
            }
            return out;
        }
        if (v instanceof Number n) {
            return new int[] {n.intValue()};
        }
        throw new UnsupportedModelException(source + ": '" + key + "' should be a list of numbers, found " + v);
    }

    boolean[] bools(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof List<?> l)) {
            return null;
        }
        boolean[] out = new boolean[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Boolean.TRUE.equals(l.get(i));
        }
        return out;
    }
}
