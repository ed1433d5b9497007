package dev.ldm4j.server;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fields of an AUTOMATIC1111 {@code parameters} text ("prompt\nNegative prompt: ...\nSteps: 20, Sampler:
 * ..."), as strings by their A1111 names, with Size also split into Size-1 and Size-2 (as A1111's png-info
 * answers).
 */
final class InfoText {
    /** "Key: value" where value is a quoted string (with escapes) or runs to the next comma. */
    private static final Pattern FIELD = Pattern.compile("\\s*([\\w .+/-]+):\\s*(\"(?:\\\\.|[^\\\\\"])*\"|[^,]*)(?:,|$)");

    private InfoText() {}

    static Map<String, String> parse(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        String[] lines = text.strip().split("\n");
        String last = lines[lines.length - 1];
        boolean hasFields = lines.length > 0 && FIELD.matcher(last).lookingAt() && last.contains("Steps:");
        int end = hasFields ? lines.length - 1 : lines.length;
        StringBuilder prompt = new StringBuilder();
        StringBuilder negative = null;
        for (int i = 0; i < end; i++) {
            String line = lines[i];
            if (line.startsWith("Negative prompt:")) {
                negative = new StringBuilder(line.substring("Negative prompt:".length()).strip());
            } else if (negative != null) {
                negative.append('\n').append(line);
            } else {
                prompt.append(prompt.isEmpty() ? "" : "\n").append(line);
            }
        }
        out.put("Prompt", prompt.toString());
        out.put("Negative prompt", negative == null ? "" : negative.toString());
        if (hasFields) {
            Matcher m = FIELD.matcher(last);
            while (m.find()) {
                String key = m.group(1).strip();
                String value = m.group(2).strip();
                if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                    value = value.substring(1, value.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
                }
                out.put(key, value);
                if (key.equals("Size") && value.matches("\\d+x\\d+")) {
                    out.put("Size-1", value.substring(0, value.indexOf('x')));
                    out.put("Size-2", value.substring(value.indexOf('x') + 1));
                }
            }
        }
        return out;
    }
}
