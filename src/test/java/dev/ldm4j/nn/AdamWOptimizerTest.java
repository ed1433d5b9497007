package dev.ldm4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Map;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.junit.jupiter.api.Test;

class AdamWOptimizerTest {
    private static final float[] START = {1f, -2f, 0.5f, 0f};
    private static final float[] C = {0.5f, 1f, -3f, 2f};

    /** loss = sum(c * p^2 + p), so grad = 2 c p + 1 (never zero, sign changes along the way). */
    private static void backward(Tensor p) {
        Tensor c = Tensors.fromFloats(C, 4);
        p.mul(p).mul(c).add(p).sum().backward();
    }

    private static Tensor param() {
        Tensor p = Tensors.fromFloats(START.clone(), 4);
        p.requires_grad_(true);
        return p;
    }

    private static void zeroGrad(Tensor p) {
        try (NoGradGuard g = new NoGradGuard()) {
            p.grad().zero_();
        }
    }

    @Test
    void followsTheHandComputation() {
        Torch.load();
        Tensor p = param();
        AdamWOptimizer opt = new AdamWOptimizer(Map.of("p", p), new AdamWOptimizer.Settings(0.9, 0.999, 1e-8, 0.1));
        double[] w = new double[4];
        double[] m = new double[4];
        double[] v = new double[4];
        for (int i = 0; i < 4; i++) {
            w[i] = START[i];
        }
        double[] lrs = {0.01, 0.02, 0.05};
        for (int k = 1; k <= lrs.length; k++) {
            backward(p);
            opt.step(lrs[k - 1]);
            zeroGrad(p);
            double lr = lrs[k - 1];
            for (int i = 0; i < 4; i++) {
                double g = 2 * C[i] * w[i] + 1;
                w[i] *= 1 - lr * 0.1;
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                double mHat = m[i] / (1 - Math.pow(0.9, k));
                double vHat = v[i] / (1 - Math.pow(0.999, k));
                w[i] -= lr * mHat / (Math.sqrt(vHat) + 1e-8);
            }
            float[] got = Tensors.toFloats(p);
            for (int i = 0; i < 4; i++) {
                assertEquals(w[i], got[i], 1e-6, "step " + k + " [" + i + "]");
            }
        }
        assertEquals(3, opt.steps());
    }

    @Test
    void agreesWithLibtorchAdamW() {
        Torch.load();
        Tensor ours = param();
        Tensor theirs = param();
        // libtorch's defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01
        AdamWOptimizer opt = new AdamWOptimizer(Map.of("p", ours), new AdamWOptimizer.Settings(0.9, 0.999, 1e-8, 0.01));
        AdamW ref = new AdamW(new TensorVector(theirs), new AdamWOptions(0.03));
        for (int k = 1; k <= 20; k++) {
            backward(ours);
            opt.step(0.03);
            zeroGrad(ours);
            backward(theirs);
            ref.step();
            zeroGrad(theirs);
            float[] a = Tensors.toFloats(ours);
            float[] b = Tensors.toFloats(theirs);
            for (int i = 0; i < 4; i++) {
                assertEquals(b[i], a[i], 2e-7 * Math.max(1, Math.abs(b[i])), "step " + k + " [" + i + "]");
            }
        }
        assertFalse(Tensors.toFloats(ours)[0] == START[0], "the parameter moved");
    }
}
