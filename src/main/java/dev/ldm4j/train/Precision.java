package dev.ldm4j.train;

import java.util.Locale;

/**
 * The arithmetic of the training forward and backward passes. The master weights, optimizer moments and EMA
 * are float32 in every case; {@link #BF16} runs the text encoder and UNet under libtorch's CPU autocast
 * (matmuls and convolutions in bfloat16, AMX where the CPU has it; norms and the loss in float32).
 */
public enum Precision {
    FP32,
    BF16;

    public static Precision parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "fp32", "float32", "float" -> FP32;
            case "bf16", "bfloat16" -> BF16;
            default -> throw new IllegalArgumentException("unknown training precision '" + name + "'; valid: fp32, bf16");
        };
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
