package dev.ldm4j.nn;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.DType;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A floating-point precision: its names on the command line and the dtype it stands for in libtorch and in a
 * safetensors file. The one parser of fp32 / bf16 / fp16 (and float32, bfloat16, float16, half, ...). What a
 * precision governs is the user's: inference holds a component's weights and activations in it
 * ({@code ModelLoader.Options}); training keeps float32 master weights and autocasts its forward and backward
 * passes to it ({@code train.Autocast}, fp32 or bf16 only); an export stores its weights in it
 * ({@code --save-precision}).
 */
public enum Precision {
    FP32(ScalarType.Float, DType.F32),
    BF16(ScalarType.BFloat16, DType.BF16),
    FP16(ScalarType.Half, DType.F16);

    /**
     * Below this many UNet parameters, half precision buys no time worth its rounding: tiny models (tests,
     * previews) stay exact, real SD models (860M parameters) get the fast path.
     */
    static final long HALF_PRECISION_MIN_PARAMS = 100_000_000L;

    private final ScalarType type;
    private final DType dtype;

    Precision(ScalarType type, DType dtype) {
        this.type = type;
        this.dtype = dtype;
    }

    public ScalarType scalarType() {
        return type;
    }

    /** The element type of a safetensors file holding tensors of this precision. */
    public DType dtype() {
        return dtype;
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** fp32, bf16, fp16 (also float32, f32, float, bfloat16, float16, f16, half), any case. */
    public static Precision parse(String name) {
        return parse(name, "", values());
    }

    /**
     * As {@link #parse(String)} for a setting that offers only {@code allowed}; {@code what} names the setting
     * in the message ("training", "checkpoint"; "" for none).
     */
    public static Precision parse(String name, String what, Precision... allowed) {
        Precision p = switch (name == null ? "" : name.trim().toLowerCase(Locale.ROOT)) {
            case "fp32", "float32", "f32", "float" -> FP32;
            case "bf16", "bfloat16" -> BF16;
            case "fp16", "float16", "f16", "half" -> FP16;
            default -> null;
        };
        String valid = Arrays.stream(allowed).map(Precision::cliName).collect(Collectors.joining(", "));
        String setting = what.isEmpty() ? "precision" : what + " precision";
        if (p == null) {
            throw new BadRequestException("unknown " + setting + " '" + name + "'; valid: " + valid);
        }
        if (!Arrays.asList(allowed).contains(p)) {
            throw new BadRequestException(setting + " " + p.cliName() + " is not supported; valid: " + valid);
        }
        return p;
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
