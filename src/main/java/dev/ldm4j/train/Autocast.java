package dev.ldm4j.train;

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
 */
public final class Autocast implements AutoCloseable {
    private final boolean enabled;
    private final boolean wasEnabled;
    private final ScalarType previousDtype;
    private final boolean flashWasEnabled;

    private Autocast(boolean enabled) {
        this.enabled = enabled;
        this.wasEnabled = torch.is_autocast_enabled(DeviceType.CPU);
        this.previousDtype = torch.get_autocast_dtype(DeviceType.CPU);
        Context context = torch.globalContext();
        this.flashWasEnabled = context.userEnabledFlashSDP();
        if (enabled) {
            torch.set_autocast_dtype(DeviceType.CPU, ScalarType.BFloat16);
            torch.set_autocast_enabled(DeviceType.CPU, true);
            context.setSDPUseFlash(false);
        }
    }

    /** Autocast to bfloat16 when {@code precision} asks for it, else nothing. */
    public static Autocast of(Precision precision) {
        return new Autocast(precision == Precision.BF16);
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
