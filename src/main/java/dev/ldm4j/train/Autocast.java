package dev.ldm4j.train;

import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * libtorch's CPU autocast for the span of a forward pass (what {@code torch.autocast("cpu", torch.bfloat16)}
 * does in Python): matmuls and convolutions run in bfloat16 on float32 weights, the graph records the casts,
 * so the backward pass returns float32 gradients to the float32 master weights. Closing restores the previous
 * state and drops the cached casts of the weights, which go stale as soon as the optimizer steps.
 */
public final class Autocast implements AutoCloseable {
    private final boolean enabled;
    private final boolean wasEnabled;
    private final ScalarType previousDtype;

    private Autocast(boolean enabled) {
        this.enabled = enabled;
        this.wasEnabled = torch.is_autocast_enabled(DeviceType.CPU);
        this.previousDtype = torch.get_autocast_dtype(DeviceType.CPU);
        if (enabled) {
            torch.set_autocast_dtype(DeviceType.CPU, ScalarType.BFloat16);
            torch.set_autocast_enabled(DeviceType.CPU, true);
        }
    }

    /** Autocast to bfloat16 when {@code precision} asks for it, else nothing. */
    public static Autocast of(Precision precision) {
        return new Autocast(precision == Precision.BF16);
    }

    @Override
    public void close() {
        if (enabled) {
            torch.set_autocast_enabled(DeviceType.CPU, wasEnabled);
            torch.set_autocast_dtype(DeviceType.CPU, previousDtype);
            if (!wasEnabled) {
                torch.clear_cache();
            }
        }
    }
}
