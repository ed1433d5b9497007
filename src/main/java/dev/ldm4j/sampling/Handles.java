package dev.ldm4j.sampling;

import org.bytedeco.pytorch.Tensor;

/**
 * Tensor handles that outlive the per-step PointerScope they were made in. A held handle is a new at::Tensor
 * referring to the same data, so releasing it never frees a tensor the caller or the model still uses.
 */
final class Handles {
    private Handles() {}

    /** A handle on t that survives the current PointerScope; give it back with {@link #drop}. */
    static Tensor hold(Tensor t) {
        Tensor h = new Tensor(t);
        h.retainReference();
        return h;
    }

    static void drop(Tensor held) {
        if (held != null) {
            held.releaseReference();
        }
    }

    /** A plain handle for the caller (in the caller's scope, if any), dropping the held one. */
    static Tensor release(Tensor held) {
        Tensor out = new Tensor(held);
        drop(held);
        return out;
    }
}
