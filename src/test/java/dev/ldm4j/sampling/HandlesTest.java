package dev.ldm4j.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** The JavaCPP reference counting the sampler loop relies on to free each step's tensors. */
class HandlesTest {
    @Test
    void aHeldHandleOutlivesItsScopeAndDropFreesIt() {
        Tensor held;
        Tensor temporary;
        try (PointerScope scope = new PointerScope()) {
            temporary = Tensors.fromFloats(new float[] {1, 2, 3}, 3);
            held = Handles.hold(temporary);
        }
        assertTrue(temporary.isNull(), "made in the scope, freed with it");
        assertFalse(held.isNull());
        assertArrayEquals(new float[] {1, 2, 3}, Tensors.toFloats(held));
        Handles.drop(held);
        assertTrue(held.isNull(), "dropped");
    }

    @Test
    void droppingAHandleLeavesTheOriginalAlone() {
        Tensor original = Tensors.fromFloats(new float[] {4, 5}, 2);
        Tensor held = Handles.hold(original);
        Tensor out = Handles.release(held);
        assertTrue(held.isNull());
        assertFalse(original.isNull());
        assertArrayEquals(new float[] {4, 5}, Tensors.toFloats(out));
        assertArrayEquals(new float[] {4, 5}, Tensors.toFloats(original));
    }
}
