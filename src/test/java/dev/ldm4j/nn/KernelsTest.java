package dev.ldm4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link Kernels}: what the layers compute through it equals float64 on this machine, its check passes right
 * results and catches wrong ones (a nudged value, a dropped block, NaN, a run that differs from the last), and
 * a failed check falls back and recomputes instead of handing the wrong result on.
 */
@org.junit.jupiter.api.Tag("golden")
class KernelsTest {
    /** Deterministic inputs that do not touch libtorch's generator. */
    static Tensor input(long seed, ScalarType dtype, long... shape) {
        return Kernels.noise(shape, seed).to(dtype);
    }

    /** Given tensors as a model's parameters. */
    record MapSource(java.util.Map<String, Tensor> taken) implements ParameterSource {
        @Override
        public boolean has(String key) {
            return taken.containsKey(key);
        }

        @Override
        public Tensor get(String key, long[] shape) {
            return taken.get(key);
        }
    }

    /** libtorch's 3x3 convolution, stride 1, padding 1, no bias. */
    static Tensor conv3x3(Tensor x, Tensor w) {
        return torch.conv2d(x, w, new TensorOptional(), new long[] {1, 1}, new long[] {1, 1}, new long[] {1, 1}, 1);
    }

    static double maxAbs(Tensor t) {
        return t.abs().max().item().toDouble();
    }

    @ParameterizedTest(name = "conv {0} {1}->{2} {3}x{3} k{4} s{5} p{6} batch {7} {8}")
    @CsvSource({
        "Float, 9, 32, 8, 3, 1, 1, 2, nchw", "Float, 9, 32, 8, 3, 1, 1, 2, cl", "Float, 4, 32, 8, 3, 1, 1, 1, nchw",
        "Float, 32, 64, 8, 3, 1, 1, 2, nchw", "Float, 3, 32, 64, 3, 1, 1, 1, cl", "Float, 64, 64, 33, 3, 2, 0, 1, cl",
        "Float, 32, 32, 16, 3, 2, 1, 2, nchw", "Float, 320, 320, 8, 3, 1, 1, 2, nchw", "Float, 64, 128, 8, 1, 1, 0, 2, cl",
        "BFloat16, 9, 32, 8, 3, 1, 1, 2, nchw", "BFloat16, 320, 640, 8, 3, 1, 1, 2, nchw",
        "BFloat16, 64, 64, 16, 1, 1, 0, 1, cl", "Half, 32, 64, 8, 3, 1, 1, 2, nchw"
    })
    void convolutionEqualsFloat64(ScalarType dtype, int in, int out, int size, int k, int stride, int pad, int batch,
                                  String layout) {
        Torch.load();
        try (PointerScope scope = new PointerScope(); InferenceMode guard = new InferenceMode()) {
            Tensor x = input(1, dtype, batch, in, size, size);
            if (layout.equals("cl")) {
                x = x.contiguous(torch.MemoryFormat.ChannelsLast);
            }
            Tensor w = input(2, dtype, out, in, k, k).mul(Ops.s(1.0 / Math.sqrt(in * k * k)));
            Tensor b = input(3, dtype, out);
            Tensor y = Kernels.conv2d(x, w, new TensorOptional(b), stride, pad);
            Tensor ref = torch.conv2d(x.to(ScalarType.Double), w.to(ScalarType.Double),
                    new TensorOptional(b.to(ScalarType.Double)), new long[] {stride, stride}, new long[] {pad, pad},
                    new long[] {1, 1}, 1);
            // float32: a few roundings of values of order 1; half: the output rounding (relative u) dominates
            double tol = dtype == ScalarType.Float ? 1e-4 : dtype == ScalarType.BFloat16 ? 0.05 : 0.01;
            double err = maxAbs(y.to(ScalarType.Double).sub(ref)) / Math.max(1, maxAbs(ref));
            assertTrue(err < tol, "relative error " + err);
            assertEquals(Kernels.Check.PASS, Kernels.checkConv(x, w, b, stride, pad, y));
        }
    }

    @Test
    void linearAndAttentionEqualFloat64() {
        Torch.load();
        try (PointerScope scope = new PointerScope(); InferenceMode guard = new InferenceMode()) {
            for (ScalarType dtype : new ScalarType[] {ScalarType.Float, ScalarType.BFloat16}) {
                Tensor x = input(4, dtype, 2, 77, 320);
                Tensor w = input(5, dtype, 1280, 320).mul(Ops.s(0.05));
                Tensor b = input(6, dtype, 1280);
                Linear layer = new Linear(Weights.of(new MapSource(java.util.Map.of("weight", w, "bias", b))), 320,
                        1280);
                Tensor y = layer.forward(x);
                Tensor ref = torch.linear(x.to(ScalarType.Double), w.to(ScalarType.Double),
                        new TensorOptional(b.to(ScalarType.Double)));
                double tol = dtype == ScalarType.Float ? 1e-4 : 0.05;
                assertTrue(maxAbs(y.to(ScalarType.Double).sub(ref)) / maxAbs(ref) < tol, dtype.toString());
                assertEquals(Kernels.Check.PASS, Kernels.checkLinear(x, w, b, y));
            }
            Tensor q = input(7, ScalarType.Float, 2, 77, 64);
            Tensor o = Ops.attention(q, q, q, 2, true);
            Tensor qh = q.view(2, 77, 2, 32).transpose(1, 2);
            assertEquals(Kernels.Check.PASS, Kernels.checkAttention(qh, qh, qh, true,
                    o.view(2, 77, 2, 32).transpose(1, 2)));
        }
    }

    /** Training's gradients, in float32 and under bf16 autocast (how {@code train --precision bf16} runs). */
    @Test
    void backwardKernelsPassTheirCheck() {
        Torch.load();
        try (PointerScope scope = new PointerScope()) {
            for (boolean autocast : new boolean[] {false, true}) {
                torch.set_autocast_dtype(torch.DeviceType.CPU, ScalarType.BFloat16);
                torch.set_autocast_enabled(torch.DeviceType.CPU, autocast);
                try {
                    Tensor x = input(19, ScalarType.Float, 2, 9, 12, 12);
                    Tensor w = input(20, ScalarType.Float, 32, 9, 3, 3).mul(Ops.s(0.2));
                    Tensor b = input(21, ScalarType.Float, 32);
                    assertEquals(Kernels.Check.PASS, Kernels.checkConvBackward(x, w, b, 1, 1), "conv " + autocast);
                    assertEquals(Kernels.Check.PASS, Kernels.checkConvBackward(x, w.narrow(0, 0, 16), null, 2, 0),
                            "strided conv " + autocast);
                    Tensor xl = input(22, ScalarType.Float, 4, 77, 32);
                    Tensor wl = input(23, ScalarType.Float, 64, 32).mul(Ops.s(0.2));
                    assertEquals(Kernels.Check.PASS, Kernels.checkLinearBackward(xl, wl, input(24, ScalarType.Float,
                            64)), "linear " + autocast);
                } finally {
                    torch.set_autocast_enabled(torch.DeviceType.CPU, false);
                }
            }
        }
    }

    @Test
    void theCheckCatchesWrongConvolutions() {
        Torch.load();
        try (PointerScope scope = new PointerScope(); InferenceMode guard = new InferenceMode()) {
            for (ScalarType dtype : new ScalarType[] {ScalarType.Float, ScalarType.BFloat16}) {
                Tensor x = input(8, dtype, 2, 64, 40, 40);
                Tensor w = input(9, dtype, 96, 64, 3, 3).mul(Ops.s(1.0 / 24));
                Tensor b = input(10, dtype, 96);
                Tensor y = torch.conv2d(x.to(ScalarType.Double), w.to(ScalarType.Double),
                        new TensorOptional(b.to(ScalarType.Double)), new long[] {1, 1}, new long[] {1, 1},
                        new long[] {1, 1}, 1).to(dtype);
                assertEquals(Kernels.Check.PASS, Kernels.checkConv(x, w, b, 1, 1, y), dtype + " right");
                double typical = y.to(ScalarType.Double).square().mean().sqrt().item().toDouble();
                // one value off by 2% of a typical output (fp32), or by its own size (bf16, where the check
                // projects 96 channels each rounded by up to 0.4%)
                double nudge = (dtype == ScalarType.Float ? 0.02 : 1.0) * typical;
                Tensor one = y.clone();
                one.select(0, 1).select(0, 95).select(0, 39).select(0, 0).add_(Ops.s(nudge));
                assertWrong(Kernels.checkConv(x, w, b, 1, 1, one), dtype + " one value");
                Tensor block = y.clone();
                block.narrow(1, 32, 16).narrow(3, 24, 16).zero_(); // a block of channels and columns never written
                assertWrong(Kernels.checkConv(x, w, b, 1, 1, block), dtype + " block");
                Tensor nan = y.clone();
                nan.select(0, 0).select(0, 3).select(0, 0).select(0, 5).fill_(Ops.s(Double.NaN));
                assertWrong(Kernels.checkConv(x, w, b, 1, 1, nan), dtype + " NaN");
            }
        }
    }

    @Test
    void theCheckCatchesWrongLinearRows() {
        Torch.load();
        try (PointerScope scope = new PointerScope(); InferenceMode guard = new InferenceMode()) {
            Tensor x = input(11, ScalarType.Float, 600, 128);
            Tensor w = input(12, ScalarType.Float, 256, 128).mul(Ops.s(0.1));
            Tensor y = torch.linear(x.to(ScalarType.Double), w.to(ScalarType.Double), new TensorOptional())
                    .to(ScalarType.Float);
            assertEquals(Kernels.Check.PASS, Kernels.checkLinear(x, w, null, y));
            Tensor tail = y.clone();
            tail.narrow(0, 597, 3).mul_(Ops.s(1.01)); // the last rows of the last block, 1% off
            assertWrong(Kernels.checkLinear(x, w, null, tail), "tail rows");
        }
    }

    private static void assertWrong(Kernels.Check c, String what) {
        assertTrue(c.decided() && c.failure() != null, what + " should fail the check");
    }

    /** A stand-in for libtorch's oneDNN switch, and a "kernel" that is wrong while it is on. */
    static final class FakeSwitch implements Kernels.OneDnnSwitch {
        final AtomicBoolean on = new AtomicBoolean(true);

        @Override
        public boolean enabled() {
            return on.get();
        }

        @Override
        public void disable() {
            on.set(false);
        }
    }

    @Test
    void aFailedCheckSwitchesOneDnnOffAndRecomputes() {
        Torch.load();
        try (PointerScope scope = new PointerScope(); InferenceMode guard = new InferenceMode()) {
            Tensor x = input(13, ScalarType.Float, 1, 9, 8, 8);
            Tensor w = input(14, ScalarType.Float, 32, 9, 3, 3);
            FakeSwitch sw = new FakeSwitch();
            Kernels kernels = new Kernels(sw, message -> { });
            AtomicInteger calls = new AtomicInteger();
            Tensor right = conv3x3(x, w);
            Tensor y = kernels.checked("test conv", 0, () -> {
                calls.incrementAndGet();
                return sw.enabled() ? right.add(Ops.s(1)) : right.clone();
            }, out -> Kernels.checkConv(x, w, null, 1, 1, out));
            assertTrue(torch.equal(y, right), "the recomputed, right result is returned");
            assertFalse(sw.enabled(), "oneDNN switched off");
            assertNotNull(kernels.failure());
            assertTrue(kernels.failure().startsWith("test conv: differs from float64"), kernels.failure());
            // wrong either way: stop rather than hand on a wrong picture
            FakeSwitch sw2 = new FakeSwitch();
            Kernels broken = new Kernels(sw2, message -> { });
            assertThrows(Kernels.KernelException.class, () -> broken.checked("test conv", 0, () -> right.add(Ops.s(1)),
                    out -> Kernels.checkConv(x, w, null, 1, 1, out)));
            // a right kernel is checked once per signature, then runs alone
            FakeSwitch sw3 = new FakeSwitch();
            Kernels good = new Kernels(sw3, message -> { });
            calls.set(0);
            for (int i = 0; i < 3; i++) {
                good.checked("test conv", 0, () -> {
                    calls.incrementAndGet();
                    return right.clone();
                }, out -> Kernels.checkConv(x, w, null, 1, 1, out));
            }
            assertEquals(3, calls.get(), "once a call: the check reuses the first call's result");
            assertTrue(sw3.enabled());
            assertNull(good.failure());
        }
    }

    /**
     * A kernel that writes only part of its output is caught, whatever the unwritten part holds: NaN from the
     * poisoned heap, or whatever else the allocator handed out.
     */
    @Test
    void aKernelThatLeavesPartOfItsOutputUnwrittenFails() {
        Torch.load();
        try (PointerScope scope = new PointerScope(); InferenceMode guard = new InferenceMode()) {
            Tensor x = input(15, ScalarType.Float, 1, 16, 32, 32);
            Tensor w = input(16, ScalarType.Float, 64, 16, 3, 3);
            Tensor right = conv3x3(x, w);
            FakeSwitch sw = new FakeSwitch();
            Kernels kernels = new Kernels(sw, message -> { });
            Tensor y = kernels.checked("half-written", right.nbytes(), () -> {
                if (!sw.enabled()) {
                    return right.clone();
                }
                Tensor out = torch.empty(Tensors.shape(right), Tensors.options(ScalarType.Float),
                        new org.bytedeco.pytorch.MemoryFormatOptional());
                out.narrow(1, 0, 32).copy_(right.narrow(1, 0, 32));
                return out;
            }, out -> Kernels.checkConv(x, w, null, 1, 1, out));
            assertFalse(sw.enabled(), "the unwritten half was caught");
            assertTrue(kernels.failure().startsWith("half-written: "), kernels.failure());
            assertTrue(torch.equal(y, right));
        }
    }

    @Test
    void checkingLeavesTheSeedStreamAlone() {
        Torch.load();
        try (PointerScope scope = new PointerScope(); InferenceMode guard = new InferenceMode()) {
            torch.manual_seed(42);
            Tensor expected = torch.randn(16);
            torch.manual_seed(42);
            // a signature no other test uses, so that this call is checked
            Tensor x = input(17, ScalarType.Float, 1, 5, 7, 7);
            Kernels.conv2d(x, input(18, ScalarType.Float, 6, 5, 3, 3), new TensorOptional(), 1, 1);
            assertTrue(torch.equal(expected, torch.randn(16)), "the check drew from the seeded generator");
        }
    }

    @Test
    void bf16IsCheckedBeforeItBecomesTheDefault() {
        // bf16 is only "working" with oneDNN on (libtorch's own bf16 kernels are scalar), and a failed probe
        // says why oneDNN went off
        boolean works = Kernels.halfPrecisionWorks(ScalarType.BFloat16);
        assertEquals(works, Kernels.oneDnnEnabled());
        if (!works) {
            assertNotNull(Kernels.oneDnnFailure());
        }
    }

    @Test
    void rowsSpreadOverTheImage() {
        assertEquals(java.util.List.of(0L, 1L, 2L), Arrays.stream(Kernels.spread(3, 16)).boxed().toList());
        long[] rows = Kernels.spread(512, 16);
        assertEquals(16, rows.length);
        assertEquals(0, rows[0]);
        assertEquals(511, rows[15]);
        assertTrue(Arrays.stream(rows).anyMatch(r -> r > 200 && r < 300), Arrays.toString(rows));
        assertTrue(Arrays.stream(rows).distinct().count() == 16 && Arrays.stream(rows).allMatch(r -> r >= 0 && r < 512));
    }
}
