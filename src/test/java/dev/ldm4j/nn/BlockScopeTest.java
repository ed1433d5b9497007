package dev.ldm4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

class BlockScopeTest {
    private static final float[] ONES = {1, 1, 1, 1};

    @Test
    void freesIntermediatesAndHandsTheResultToTheCallersScope() {
        Tensor[] intermediate = new Tensor[1];
        Tensor out;
        try (PointerScope request = new PointerScope()) {
            Tensor x = Tensors.fromFloats(ONES, 4);
            out = BlockScope.run(() -> {
                intermediate[0] = x.mul(Ops.s(2));
                return intermediate[0].add(Ops.s(1));
            });
            assertTrue(intermediate[0].isNull(), "intermediate freed when the block returns");
            assertArrayEquals(new float[] {3, 3, 3, 3}, Tensors.toFloats(out));
        }
        assertTrue(out.isNull(), "result freed with the caller's scope");
    }

    @Test
    void withoutACallerScopeTheResultSurvives() {
        Tensor x = Tensors.fromFloats(ONES, 4);
        Tensor out = BlockScope.run(() -> x.mul(Ops.s(2)).add(Ops.s(1)));
        assertFalse(out.isNull());
        assertArrayEquals(new float[] {3, 3, 3, 3}, Tensors.toFloats(out));
    }

    @Test
    void returningTheInputKeepsIt() {
        try (PointerScope request = new PointerScope()) {
            Tensor x = Tensors.fromFloats(ONES, 4);
            Tensor out = BlockScope.run(() -> x);
            assertFalse(x.isNull());
            assertArrayEquals(ONES, Tensors.toFloats(out));
        }
    }

    @Test
    void chainKeepsOnlyTheCurrentActivation() {
        Tensor[] outputs = new Tensor[3];
        Tensor out;
        try (PointerScope request = new PointerScope()) {
            Tensor x = Tensors.fromFloats(ONES, 4);
            out = BlockScope.chain(x, java.util.List.of(
                    t -> outputs[0] = t.mul(Ops.s(2)),
                    t -> {
                        assertFalse(outputs[0].isNull(), "a stage's input lives while the stage runs");
                        return outputs[1] = t.add(Ops.s(1));
                    },
                    t -> {
                        assertTrue(outputs[0].isNull(), "stage 1's output freed once stage 2 returned");
                        return outputs[2] = t.mul(Ops.s(10));
                    }));
            assertTrue(outputs[1].isNull(), "stage 2's output freed once stage 3 returned");
            assertFalse(x.isNull(), "the input stays the caller's");
            assertArrayEquals(new float[] {30, 30, 30, 30}, Tensors.toFloats(out));
        }
        assertTrue(out.isNull(), "result freed with the caller's scope");
    }

    @Test
    void chainOfStagesThatReturnTheirInput() {
        try (PointerScope request = new PointerScope()) {
            Tensor x = Tensors.fromFloats(ONES, 4);
            Tensor out = BlockScope.chain(x, java.util.List.of(t -> t, t -> t.add(Ops.s(1)), t -> t));
            assertFalse(x.isNull());
            assertArrayEquals(ONES, Tensors.toFloats(x));
            assertArrayEquals(new float[] {2, 2, 2, 2}, Tensors.toFloats(out));
            assertTrue(BlockScope.chain(x, java.util.List.of()) == x);
        }
    }
}
