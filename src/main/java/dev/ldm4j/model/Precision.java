package dev.ldm4j.model;

import dev.ldm4j.nn.ComputeDevice;
import dev.ldm4j.nn.CpuFeatures;
import dev.ldm4j.nn.Kernels;
import java.util.Locale;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** The dtype a component's weights and activations are held in. */
public enum Precision {
    FP32(ScalarType.Float),
    BF16(ScalarType.BFloat16),
    FP16(ScalarType.Half);

    /**
     * Below this many UNet parameters, half precision buys no time worth its rounding: tiny models (tests,
     * previews) stay exact, real SD models (860M parameters) get the fast path.
     */
    static final long HALF_PRECISION_MIN_PARAMS = 100_000_000L;

    private final ScalarType type;

    Precision(ScalarType type) {
        this.type = type;
    }

    public ScalarType scalarType() {
        return type;
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** fp32, bf16, fp16 (also float32, bfloat16, float16, half). */
    public static Precision parse(String name) {
        return switch (name == null ? "" : name.trim().toLowerCase(Locale.ROOT)) {
            case "fp32", "float32", "f32" -> FP32;
            case "bf16", "bfloat16" -> BF16;
            case "fp16", "float16", "f16", "half" -> FP16;
            default -> throw new IllegalArgumentException("unknown precision '" + name + "' (fp32, bf16, fp16)");
        };
    }

    /**
     * The default for a UNet of {@code unetParams} parameters on this CPU: bf16 where the CPU computes it
     * natively (AVX512-BF16 or AMX), oneDNN's bf16 kernels pass their check here and the model is large
     * enough to profit, fp32 otherwise.
     */
    public static Precision auto(long unetParams) {
        return auto(unetParams, ComputeDevice.CPU);
    }

    /** As {@link #auto(long)} on {@code device}: on a GPU, fp16 (what every GPU has tensor cores for). */
    public static Precision auto(long unetParams, ComputeDevice device) {
        if (unetParams < HALF_PRECISION_MIN_PARAMS) {
            return FP32;
        }
        if (device == ComputeDevice.CUDA) {
            return FP16;
        }
        // the flag says the CPU has bf16 instructions; the check says oneDNN's bf16 kernels are right here
        return CpuFeatures.bf16() && Kernels.halfPrecisionWorks(BF16.type) ? BF16 : FP32;
    }
}
