package dev.ldm4j.nn;

import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Runs one block's forward pass in its own {@link PointerScope}, so the block's intermediate tensors are
 * freed as soon as it returns instead of when the caller's scope (a whole request) closes. A full-size VAE
 * decode makes gigabytes of intermediates at image resolution; holding them all to the end multiplies the
 * peak memory by the depth of the network.
 */
public final class BlockScope {
    private BlockScope() {}

    public static Tensor run(Supplier<Tensor> body) {
        PointerScope outer = PointerScope.getInnerScope();
        try (PointerScope inner = new PointerScope()) {
            Tensor out = body.get();
            if (outer != null) {
                // the caller's scope takes over the result (inner's close drops its own reference)
                outer.attach(out);
            } else {
                // no caller scope: leave the result to the garbage collector, like any unscoped tensor
                out.retainReference();
            }
            return out;
        }
    }
}
