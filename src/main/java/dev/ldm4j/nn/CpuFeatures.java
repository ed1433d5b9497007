package dev.ldm4j.nn;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * The x86 instruction-set flags of this machine that change which kernel is fast, read once from
 * {@code /proc/cpuinfo} (no flags elsewhere: every check then answers false, the safe side).
 */
public final class CpuFeatures {
    private static final Set<String> FLAGS = read();

    private CpuFeatures() {}

    /** AVX512-BF16 or AMX-BF16: oneDNN runs bf16 convolutions and matmuls natively. */
    public static boolean bf16() {
        return FLAGS.contains("avx512_bf16") || FLAGS.contains("amx_bf16");
    }

    /**
     * Whether libtorch's CPU flash-attention kernel is fast in {@code dtype} (bf16: amx_bf16, fp16:
     * amx_fp16). Without AMX it multiplies half-precision blocks with a scalar fallback: 5 GFLOP/s on 2 Zen 4
     * cores, against 115-155 for the same kernel in float32 (docs/benchmarks.md).
     */
    public static boolean fastHalfFlashAttention(org.bytedeco.pytorch.global.torch.ScalarType dtype) {
        return switch (dtype) {
            case BFloat16 -> FLAGS.contains("amx_bf16");
            case Half -> FLAGS.contains("amx_fp16");
            default -> true;
        };
    }

    private static Set<String> read() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    return Set.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
                }
            }
        } catch (IOException | RuntimeException e) {
            return Set.of();
        }
        return Set.of();
    }
}
