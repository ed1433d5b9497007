package dev.ldm4j.model;

import dev.ldm4j.io.BadRequestException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The LoRA tags of a prompt, AUTOMATIC1111's and stable-diffusion.cpp's syntax: {@code <lora:NAME:M>} (one
 * multiplier for text encoder and UNet), {@code <lora:NAME:TE:UNET>} or {@code <lora:NAME:te=TE:unet=UNET>}
 * (A1111's separate multipliers); no multiplier means 1. The tags are taken out of the text before it is
 * encoded, as both tools do.
 */
public final class LoraTags {
    private static final Pattern TAG = Pattern.compile("<lora:([^>]*)>", Pattern.CASE_INSENSITIVE);

    private LoraTags() {}

    /** One tag: which file, and how strongly into each network. */
    public record Ref(String name, double textMultiplier, double unetMultiplier) {}

    /** A prompt without its tags, and the tags in order. */
    public record Parsed(String prompt, List<Ref> loras) {}

    public static Parsed parse(String prompt) {
        if (prompt == null) {
            return new Parsed(null, List.of());
        }
        List<Ref> refs = new ArrayList<>();
        Matcher m = TAG.matcher(prompt);
        StringBuilder rest = new StringBuilder();
        while (m.find()) {
            refs.add(ref(m.group(0), m.group(1)));
            m.appendReplacement(rest, "");
        }
        m.appendTail(rest);
        return new Parsed(rest.toString(), List.copyOf(refs));
    }

    private static Ref ref(String tag, String body) {
        String[] parts = body.split(":", -1);
        String name = parts[0].trim();
        if (name.isEmpty()) {
            throw new BadRequestException("LoRA tag " + tag + " names no file");
        }
        Double te = null;
        Double unet = null;
        List<Double> positional = new ArrayList<>();
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].trim();
            int eq = p.indexOf('=');
            if (eq >= 0) {
                String key = p.substring(0, eq).trim().toLowerCase(Locale.ROOT);
                double v = number(tag, p.substring(eq + 1));
                switch (key) {
                    case "te" -> te = v;
                    case "unet" -> unet = v;
                    default -> throw new BadRequestException("LoRA tag " + tag + ": unknown setting '" + key
                            + "' (te, unet)");
                }
            } else {
                positional.add(number(tag, p));
            }
        }
        if (positional.size() > 2) {
            throw new BadRequestException("LoRA tag " + tag + ": at most two multipliers (text encoder, UNet)");
        }
        if (te == null) {
            te = positional.isEmpty() ? 1.0 : positional.get(0);
        }
        if (unet == null) {
            unet = positional.size() == 2 ? positional.get(1) : positional.isEmpty() ? te : positional.get(0);
        }
        return new Ref(name, te, unet);
    }

    private static double number(String tag, String text) {
        try {
            double v = Double.parseDouble(text.trim());
            if (!Double.isFinite(v)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new BadRequestException("LoRA tag " + tag + ": '" + text.trim() + "' is not a number");
        }
    }
}
