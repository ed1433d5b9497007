package dev.ldm4j.model;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;

/**
 * Every tensor the parameter sources of one model handed out, so that closing the model frees their memory.
 * The layers keep views and optional-wrappers of these tensors that share their storage; releasing our handle
 * would free nothing while those live, so the storage itself is emptied: every view of it then holds zero
 * bytes, which is why a closed model refuses to run.
 */
final class ModelWeights {
    /** By identity: a patch that passes a tensor on hands out the same object as the file's source. */
    private final Set<Tensor> tensors = Collections.newSetFromMap(new IdentityHashMap<>());

    synchronized void add(Map<String, Tensor> taken) {
        tensors.addAll(taken.values());
    }

    synchronized long bytes() {
        return tensors.stream().mapToLong(t -> t.storage().nbytes()).sum();
    }

    synchronized void free() {
        for (Tensor t : tensors) {
            if (t.has_storage()) {
                t.storage().unsafeGetStorageImpl().reset();
            }
            t.releaseReference();
        }
        tensors.clear();
    }
}
