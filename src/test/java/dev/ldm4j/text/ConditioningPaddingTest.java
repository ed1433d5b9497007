package dev.ldm4j.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.ldm4j.nn.Tensors;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

class ConditioningPaddingTest {
    /** [b, m, 2] whose vector at (i, j) is (base + 100 i + j, -(base + 100 i + j)). */
    private static Tensor ramp(int b, int m, int base) {
        float[] v = new float[b * m * 2];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < m; j++) {
                v[(i * m + j) * 2] = base + 100 * i + j;
                v[(i * m + j) * 2 + 1] = -(base + 100 * i + j);
            }
        }
        return Tensors.fromFloats(v, b, m, 2);
    }

    private static float[] vec(Tensor t, int i, int j) {
        return Tensors.toFloats(t.select(0, i).select(0, j));
    }

    @Test
    void padWithEmptyPromptExtendsTheShorterByWholeEmptyConditionings() {
        Tensor cond = ramp(2, 6, 0);
        Tensor uncond = ramp(2, 2, 1000);
        Tensor empty = ramp(1, 2, 5000);
        ConditioningPadding.CondUncond p = ConditioningPadding.padWithEmptyPrompt(cond, uncond, empty);
        assertSame(cond, p.cond());
        assertArrayEquals(new long[] {2, 6, 2}, Tensors.shape(p.uncond()));
        for (int i = 0; i < 2; i++) {
            assertArrayEquals(vec(uncond, i, 1), vec(p.uncond(), i, 1));
            for (int j = 2; j < 6; j++) {
                assertArrayEquals(vec(empty, 0, j % 2), vec(p.uncond(), i, j), "batch " + i + " position " + j);
            }
        }
        ConditioningPadding.CondUncond q = ConditioningPadding.padWithEmptyPrompt(uncond, cond, empty);
        assertArrayEquals(new long[] {2, 6, 2}, Tensors.shape(q.cond()));
        assertSame(cond, q.uncond());
        ConditioningPadding.CondUncond same = ConditioningPadding.padWithEmptyPrompt(cond, cond, empty);
        assertSame(cond, same.uncond());
    }

    @Test
    void padUncondV0RepeatsItsLastVectorOrCutsIt() {
        Tensor cond = ramp(1, 5, 0);
        Tensor uncond = ramp(1, 2, 1000);
        Tensor longer = ConditioningPadding.padUncondV0(cond, uncond).uncond();
        assertArrayEquals(new long[] {1, 5, 2}, Tensors.shape(longer));
        for (int j = 1; j < 5; j++) {
            assertArrayEquals(vec(uncond, 0, 1), vec(longer, 0, j));
        }
        ConditioningPadding.CondUncond cut = ConditioningPadding.padUncondV0(uncond, cond);
        assertSame(uncond, cut.cond());
        assertArrayEquals(new long[] {1, 2, 2}, Tensors.shape(cut.uncond()));
        assertArrayEquals(vec(cond, 0, 1), vec(cut.uncond(), 0, 1));
    }

    @Test
    void stackRepeatsTheLastVectorOfShorterConditionings() {
        Tensor x = ramp(1, 2, 0);
        Tensor y = ramp(2, 4, 1000);
        Tensor s = ConditioningPadding.stack(List.of(x, y));
        assertArrayEquals(new long[] {3, 4, 2}, Tensors.shape(s));
        assertArrayEquals(vec(x, 0, 0), vec(s, 0, 0));
        assertArrayEquals(vec(x, 0, 1), vec(s, 0, 3));
        assertArrayEquals(vec(y, 1, 3), vec(s, 2, 3));
    }
}
