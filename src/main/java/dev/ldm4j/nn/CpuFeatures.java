package dev.ldm4j.nn;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The x86 instruction-set flags of this machine that change which kernel is fast, read once from
 * {@code /proc/cpuinfo} (no flags elsewhere: every check then answers false, the safe side).
 */
public final class CpuFeatures {
    private static final Map<String, String> CPU0 = readCpu0();
    private static final Set<String> FLAGS = Set.copyOf(List.of(CPU0.getOrDefault("flags", "").trim().split("\\s+")));
    /** The flags that decide which kernels a CPU gets, named in {@link #describe()}. */
    private static final List<String> KERNEL_FLAGS = List.of("avx2", "avx512f", "avx512_bf16", "avx512_fp16",
            "amx_bf16", "amx_fp16", "topoext");

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

    /**
     * The CPU in one line, as every recorded figure names it: model name, vendor, family/model (decimal, as
     * lscpu prints them) and which of the kernel-deciding flags it has, e.g. "AMD EPYC (AuthenticAMD family 25
     * model 17; avx2 avx512f avx512_bf16 topoext; no avx512_fp16 amx_bf16 amx_fp16)".
     */
    public static String describe() {
        List<String> has = new ArrayList<>();
        List<String> lacks = new ArrayList<>();
        for (String f : KERNEL_FLAGS) {
            (FLAGS.contains(f) ? has : lacks).add(f);
        }
        return CPU0.getOrDefault("model name", "unknown CPU") + " (" + CPU0.getOrDefault("vendor_id", "?")
                + " family " + CPU0.getOrDefault("cpu family", "?") + " model " + CPU0.getOrDefault("model", "?")
                + "; " + String.join(" ", has) + (lacks.isEmpty() ? "" : "; no " + String.join(" ", lacks)) + ")";
    }

    /** The "key : value" lines of the first processor in /proc/cpuinfo (empty where there is none). */
    private static Map<String, String> readCpu0() {
        Map<String, String> m = new HashMap<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.isBlank() && !m.isEmpty()) {
                    break;
                }
                int colon = line.indexOf(':');
                if (colon > 0) {
                    m.putIfAbsent(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
        return m;
    }
}
