package dev.ldm4j.nn;

import java.util.List;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
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

    /**
     * Runs {@code stages} one after the other on {@code x}, each in its own scope, keeping only the current
     * activation: stage k's output is freed as soon as stage k+1 has returned. Running the stages as
     * separate {@link #run} calls would hand every intermediate output to the caller's scope, which keeps
     * them all until the whole network has run (a 512x512 VAE decode: over a gigabyte of block outputs).
     * {@code x} itself stays the caller's. Under autograd the graph keeps what backward needs on its own.
     */
    public static Tensor chain(Tensor x, List<UnaryOperator<Tensor>> stages) {
        Tensor h = x;
        boolean owned = false;
        for (UnaryOperator<Tensor> stage : stages) {
            Tensor next;
            try (PointerScope inner = new PointerScope()) {
                next = stage.apply(h);
                next.retainReference();
            }
            if (owned) {
                h.releaseReference();
            }
            h = next;
            owned = true;
        }
        if (!owned) {
            return x;
        }
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null) {
            outer.attach(h);
            h.releaseReference();
        }
        return h;
    }
}
