package dev.ldm4j.train;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.nn.Precision;
import java.util.List;
import org.bytedeco.pytorch.Context;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * libtorch's CPU autocast for the span of a forward pass (what {@code torch.autocast("cpu", torch.bfloat16)}
 * does in Python): matmuls and convolutions run in bfloat16 on float32 weights, the graph records the casts,
 * so the backward pass returns float32 gradients to the float32 master weights. Closing restores the previous
 * state and drops the cached casts of the weights, which go stale as soon as the optimizer steps.
 *
 * <p>While it is open, scaled-dot-product attention avoids libtorch's CPU flash kernel: its bfloat16 backward
 * is about ten times slower than the float32 one (measured: 21 ms against 1.8 ms for a [32, 4, 64, 32]
 * self-attention), while the math path (which upcasts to float32 for its reductions) takes 3 ms. The backward
 * kernel is fixed by the forward, so the switch only needs to span the forward. It is a process-wide libtorch
 * setting: an inference running in another thread at the same moment would take the math path too.
 *
 * <p>This is what a training {@link Precision} means: the arithmetic of the forward and backward passes, never
 * the dtype of the weights (master weights, optimizer moments and EMA are float32 whatever it is).
 */
public final class Autocast implements AutoCloseable {
    /** The precisions training offers: fp32 (no autocast) and bf16 (libtorch's CPU autocast). */
    public static final List<Precision> PRECISIONS = List.of(Precision.FP32, Precision.BF16);

    private final boolean enabled;
    private final boolean wasEnabled;
    private final ScalarType previousDtype;
    private final boolean flashWasEnabled;

    private Autocast(Precision precision) {
        this.enabled = requireTraining(precision) != Precision.FP32;
        this.wasEnabled = torch.is_autocast_enabled(DeviceType.CPU);
        this.previousDtype = torch.get_autocast_dtype(DeviceType.CPU);
        Context context = torch.globalContext();
        this.flashWasEnabled = context.userEnabledFlashSDP();
        if (enabled) {
            torch.set_autocast_dtype(DeviceType.CPU, precision.scalarType());
            torch.set_autocast_enabled(DeviceType.CPU, true);
            context.setSDPUseFlash(false);
        }
    }

    /** Autocast to bfloat16 when {@code precision} asks for it, else nothing. */
    public static Autocast of(Precision precision) {
        return new Autocast(precision);
    }

    /** A training precision by name: fp32 or bf16 (see {@link Precision#parse(String)} for the spellings). */
    public static Precision parse(String name) {
        return Precision.parse(name, "training", PRECISIONS.toArray(Precision[]::new));
    }

    /** {@code precision} when training offers it (checked where a training config is made). */
    public static Precision requireTraining(Precision precision) {
        if (precision == null || !PRECISIONS.contains(precision)) {
            throw new BadRequestException("training precision must be fp32 or bf16, got "
                    + (precision == null ? null : precision.cliName()));
        }
        return precision;
    }

    @Override
    public void close() {
        if (enabled) {
            torch.globalContext().setSDPUseFlash(flashWasEnabled);
            torch.set_autocast_enabled(DeviceType.CPU, wasEnabled);
            torch.set_autocast_dtype(DeviceType.CPU, previousDtype);
            if (!wasEnabled) {
                torch.clear_cache();
            }
        }
    }
}
