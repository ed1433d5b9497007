package dev.ldm4j.nn;

import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AutoGradMode;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The native kernels of ldm4j's layers (convolution, linear, attention), each checked on this machine against
 * float64 arithmetic before its results are used.
 *
 * <p>Why: libtorch's oneDNN picks its kernels and their cache blocking from what CPUID says about the caches.
 * oneDNN 3.7 (libtorch 2.10) reads an AMD CPU's caches from leaf 0x8000001D alone and assumes three levels; a
 * VM that hides that leaf (no {@code topoext}: Linux then shows no {@code /sys/.../cpu0/cache}, and NNPACK
 * reports "unsupported hardware") answers zeros, which oneDNN takes for three 1-byte caches. Some kernels then
 * compute wrong numbers: reproduced under QEMU with such a CPUID, a float32 3x3 convolution with 9 input
 * channels (the inpainting UNet's first layer) is off by 1.0 at AVX2, and on a Zen 5 VM of this kind the
 * golden images were off by 20-250 levels at AVX-512 (docs/kernels.md). Nothing in the API says which kernel a
 * shape gets, so no list of CPUs or shapes can say where it is safe; a check of the result can.
 *
 * <p>How: the first call of every signature (op, dtypes, shapes, memory layout, grad mode, autocast, oneDNN on
 * or off) runs on a heap whose freed blocks of the result's size were just filled with NaN (so that a kernel
 * reading memory it never wrote reads NaN, whatever the allocator would have handed it), and its result is
 * checked against float64 with Freivalds' projection: for a random sign vector r over the output channels,
 * {@code y . r} must equal the same layer computed in float64 with its weights contracted by r, at every
 * checked position, within a bound derived from the dtype's rounding. That costs one float64 layer with a
 * single output channel (on a sample of rows for large images), not a second copy of the layer. Where
 * autograd will run the layer's backward (training), its gradients are checked the same way. When a oneDNN
 * result fails, oneDNN is switched off for the process (libtorch's own im2col + BLAS kernels take over,
 * slower) with one warning line, and the call is recomputed and checked again; if that fails too,
 * {@link KernelException} stops the run rather than let it write a wrong picture. Later calls of a verified
 * signature run the kernel alone.
 *
 * <p>The state is per process because what it describes is: the machine and the native libraries loaded into
 * it (oneDNN's switch is a process-wide flag of libtorch).
 */
public final class Kernels {
    private static final Logger LOG = LoggerFactory.getLogger(Kernels.class);
    private static final Kernels PROCESS = new Kernels(OneDnnSwitch.LIBTORCH, LOG::warn);

    /** Unit roundoff of float32, in which every kernel here accumulates. */
    private static final double U32 = Math.pow(2, -24);
    /** Output rows of a convolution checked at most; large images are checked on a spread of rows. */
    private static final int CONV_ROWS = 16;
    /** Query positions of an attention checked at most. */
    private static final int ATTENTION_ROWS = 32;
    /** Rows of a linear layer projected per float64 chunk (bounds the check's memory). */
    private static final long LINEAR_CHUNK = 256;
    private static final long[] ONE = {1, 1};
    private static final long MMAP_THRESHOLD_MAX = 32L << 20;

    private final Set<String> verified = ConcurrentHashMap.newKeySet();
    private final OneDnnSwitch oneDnn;
    private final java.util.function.Consumer<String> warn;
    private volatile String oneDnnFailure;

    Kernels(OneDnnSwitch oneDnn, java.util.function.Consumer<String> warn) {
        this.oneDnn = oneDnn;
        this.warn = warn;
    }

    /** Whether libtorch may use oneDNN, and the way to stop it. */
    interface OneDnnSwitch {
        boolean enabled();

        void disable();

        /** libtorch's process-wide flag ({@code torch.backends.mkldnn.enabled} in Python). */
        OneDnnSwitch LIBTORCH = new OneDnnSwitch() {
            @Override
            public boolean enabled() {
                Torch.load();
                return torch.globalContext().userEnabledMkldnn();
            }

            @Override
            public void disable() {
                torch.globalContext().setUserEnabledMkldnn(false);
            }
        };
    }

    /**
     * Thrown when a half-precision kernel was wrong and oneDNN has just been switched off: libtorch's own
     * half-precision convolutions and matmuls are scalar code (a bf16 SD 1.5 step at 256 px: 103 s instead of
     * 0.9), so the request is better run again in float32 than finished this way.
     */
    public static final class HalfPrecisionUnavailable extends RuntimeException {
        HalfPrecisionUnavailable(String message) {
            super(message);
        }
    }

    /** The exception a wrong half-precision kernel raises, for tests of what catches it. */
    public static HalfPrecisionUnavailable halfPrecisionUnavailableForTest(String why) {
        return new HalfPrecisionUnavailable(why);
    }

    /**
     * Whether half precision ({@code dtype}) can run fast and right here: oneDNN is on, and a convolution and a
     * linear layer of SD's shapes in that dtype pass their check (run now, once per process; a failure switches
     * oneDNN off like any other).
     */
    public static boolean halfPrecisionWorks(ScalarType dtype) {
        Torch.load();
        if (!oneDnnEnabled()) {
            return false;
        }
        try (PointerScope scope = new PointerScope(); InferenceMode guard = new InferenceMode()) {
            // SD 1.5's first level: a 320-channel 3x3 convolution (batch 2, as a guided step) and a 320 -> 1280
            // linear layer over its tokens
            Tensor x = noise(new long[] {2, 320, 16, 16}, 1).to(dtype);
            Tensor cw = noise(new long[] {320, 320, 3, 3}, 2).mul(Ops.s(0.02)).to(dtype);
            conv2d(x, cw, new TensorOptional(), 1, 1);
            Tensor lw = noise(new long[] {1280, 320}, 3).mul(Ops.s(0.05)).to(dtype);
            linear(x.permute(0, 2, 3, 1).reshape(2, 256, 320), lw, null, null);
        } catch (HalfPrecisionUnavailable e) {
            return false;
        }
        return oneDnnEnabled();
    }

    /** Thrown when neither oneDNN nor libtorch's own kernels give the float64 reference's numbers. */
    public static final class KernelException extends RuntimeException {
        KernelException(String message) {
            super(message);
        }
    }

    /**
     * Why oneDNN was switched off in this process (the first failed check), or null while it is in use.
     */
    public static String oneDnnFailure() {
        return PROCESS.failure();
    }

    /** Whether oneDNN's kernels are in use (libtorch's switch; off after a failed check). */
    public static boolean oneDnnEnabled() {
        return PROCESS.oneDnn.enabled();
    }

    /** How many kernel signatures this process has checked and trusted so far. */
    public static int verifiedCount() {
        return PROCESS.verified.size();
    }

    /** The first failure that switched oneDNN off for this instance, or null. */
    String failure() {
        return oneDnnFailure;
    }

    /** 2-D convolution with square kernel, equal stride and padding on both axes, no dilation or groups. */
    public static Tensor conv2d(Tensor x, Tensor weight, TensorOptional bias, long stride, long padding) {
        long[] s = {stride, stride};
        long[] p = {padding, padding};
        Supplier<Tensor> run = () -> torch.conv2d(x, weight, bias, s, p, ONE, 1);
        Tensor b = bias.has_value() ? bias.get() : null;
        boolean training = backwardWillRun(x, weight);
        String key = "conv2d " + describe(x) + " w" + Tensors.shapeString(weight) + " b" + bias.has_value()
                + " s" + stride + " p" + padding + (training ? " backward" : "");
        long[] out = outShape(x, weight, stride, padding);
        return PROCESS.checked(key, out[0] * out[1] * out[2] * out[3] * x.element_size(), run, y -> {
            Check forward = checkConv(x, weight, b, stride, padding, y);
            return forward.failure() != null || !training ? forward
                    : both(forward, checkConvBackward(x, weight, b, stride, padding));
        });
    }

    /** y = x W^T + b over the last dimension; {@code fast} is a faster way to the same product, or null. */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias, Supplier<Tensor> fast) {
        TensorOptional b = bias == null ? new TensorOptional() : new TensorOptional(bias);
        Supplier<Tensor> plain = () -> torch.linear(x, weight, b);
        boolean viaOneDnn = fast != null && oneDnnEnabled();
        boolean training = backwardWillRun(x, weight);
        String key = (viaOneDnn ? "linear-1x1conv " : "linear ") + describe(x) + " w" + Tensors.shapeString(weight)
                + " b" + (bias != null) + (training ? " backward" : "");
        long outBytes = x.numel() / Math.max(1, x.size(-1)) * weight.size(0) * x.element_size();
        return PROCESS.checked(key, outBytes, () -> viaOneDnn && oneDnnEnabled() ? fast.get() : plain.get(), y -> {
            Check forward = checkLinear(x, weight, bias, y);
            return forward.failure() != null || !training ? forward
                    : both(forward, checkLinearBackward(x, weight, bias));
        });
    }

    /**
     * Multi-head attention through {@code run}, checked against softmax(q k^T d^-0.5) v in float64;
     * q, k, v are [B, heads, N or M, d] and the result [B, heads, N, d].
     */
    public static Tensor attention(Tensor q, Tensor k, Tensor v, boolean causal, Supplier<Tensor> run) {
        String key = "attention " + describe(q) + " k" + describe(k) + " causal " + causal;
        return PROCESS.checked(key, q.nbytes(), run, o -> checkAttention(q, k, v, causal, o));
    }

    private static boolean halfPrecision(Tensor y) {
        ScalarType t = Tensors.scalarType(y);
        return t == ScalarType.BFloat16 || t == ScalarType.Half
                || torch.is_autocast_enabled(org.bytedeco.pytorch.global.torch.DeviceType.CPU);
    }

    /** Whether autograd will run this layer's backward kernels: grad mode, and something to differentiate. */
    private static boolean backwardWillRun(Tensor x, Tensor weight) {
        return GradMode.is_enabled() && (x.requires_grad() || weight.requires_grad());
    }

    /** The outcome of comparing a kernel's result with the float64 reference. */
    record Check(boolean decided, String failure) {
        static final Check PASS = new Check(true, null);
        static final Check UNDECIDED = new Check(false, null);

        static Check fail(String why) {
            return new Check(true, why);
        }
    }

    interface Checker {
        Check apply(Tensor y);
    }

    Tensor checked(String signature, long outBytes, Supplier<Tensor> run, Checker checker) {
        String key = signature + (GradMode.is_enabled() ? " grad" : "")
                + (torch.is_autocast_enabled(org.bytedeco.pytorch.global.torch.DeviceType.CPU) ? " autocast" : "")
                + (oneDnn.enabled() ? "" : " no-onednn");
        if (verified.contains(key)) {
            return run.get();
        }
        poisonHeap(outBytes);
        Tensor y = run.get();
        if (!y.is_cpu()) {
            return y; // a GPU's kernels do not read the CPU's cache leaves; they are not checked here
        }
        Check c = verify(checker, y);
        if (c.failure() == null) {
            if (c.decided()) {
                verified.add(key);
            }
            return y;
        }
        if (!oneDnn.enabled()) {
            throw new KernelException("the native kernels give wrong results on this CPU (" + CpuFeatures.describe()
                    + "): " + signature + ": " + c.failure() + "; no kernel left to fall back to");
        }
        disableOneDnn(signature + ": " + c.failure());
        if (halfPrecision(y)) {
            throw new HalfPrecisionUnavailable("half precision needs oneDNN, which computes wrong results on this CPU ("
                    + signature + ": " + c.failure() + "); run in float32 (--precision fp32)");
        }
        return checked(signature, outBytes, run, checker);
    }

    /** The float64 check of {@code y}, in its own scope, recording no gradient. */
    private static Check verify(Checker checker, Tensor y) {
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            return checker.apply(y);
        }
    }

    /**
     * Allocates blocks of these sizes (and twice them) full of NaN and frees them at once. Blocks above glibc's
     * largest mmap threshold (32 MB) are left out: malloc maps those fresh, zeroed, and unmaps them on free.
     */
    static void poisonHeap(long... sizes) {
        try (PointerScope poison = new PointerScope()) {
            for (long bytes : sizes) {
                for (long n : new long[] {bytes, 2 * bytes}) {
                    if (n > MMAP_THRESHOLD_MAX) {
                        continue;
                    }
                    torch.full(new long[] {Math.max(1, n / 4)}, new org.bytedeco.pytorch.Scalar(Float.NaN),
                            Tensors.options(ScalarType.Float));
                }
            }
        }
    }

    private synchronized void disableOneDnn(String why) {
        if (oneDnnFailure == null) {
            oneDnnFailure = why;
            warn.accept("oneDNN computes wrong results on this CPU (" + CpuFeatures.describe() + "): " + why
                    + "; using libtorch's own kernels instead (correct, slower; see docs/kernels.md)");
        }
        oneDnn.disable();
    }

    // ---- convolution -------------------------------------------------------------------------------------

    static Check checkConv(Tensor x, Tensor w, Tensor bias, long stride, long pad, Tensor y) {
        long outC = w.size(0);
        long inC = w.size(1);
        long k = w.size(2);
        long batch = x.size(0);
        long height = x.size(2);
        long outH = y.size(2);
        long outW = y.size(3);
        long[] rows = spread(outH, CONV_ROWS);
        Tensor r = signs(outC);
        // the weights contracted over the output channels: sum_o r_o W_o, sum_o |W_o| and sum_o W_o^2
        Tensor[] proj = project(w.reshape(outC, inC * k * k), r);
        Tensor wr = proj[0].view(1, inC, k, k);
        Tensor wa = proj[1].view(1, inC, k, k);
        Tensor w2 = proj[2].view(1, inC, k, k);
        // for every checked output row, the k input rows it reads (zeros where they fall in the padding)
        Tensor[] slabs = new Tensor[rows.length];
        for (int i = 0; i < rows.length; i++) {
            long lo = rows[i] * stride - pad;
            long from = Math.max(lo, 0);
            long to = Math.min(lo + k, height);
            Tensor part = toDouble(x.narrow(2, from, to - from));
            slabs[i] = torch.constant_pad_nd(part, new long[] {0, 0, from - lo, lo + k - to}, Ops.s(0));
        }
        Tensor slab = Ops.cat(0, slabs); // [n * B, C, k, W]
        long[] s = {1, stride};
        long[] p = {0, pad};
        Tensor rhs = torch.conv2d(slab, wr, new TensorOptional(), s, p, ONE, 1);
        Tensor mag = torch.conv2d(slab.abs(), wa, new TensorOptional(), s, p, ONE, 1);
        Tensor var = torch.conv2d(slab.square(), w2, new TensorOptional(), s, p, ONE, 1);
        if (bias != null) {
            Tensor b = toDouble(bias);
            rhs = rhs.add(b.dot(r));
            mag = mag.add(b.abs().sum());
            var = var.add(b.square().sum());
        }
        // [n * B, 1, 1, W'] -> [B, n, W']
        rhs = rhs.view(rows.length, batch, outW).transpose(0, 1);
        mag = mag.view(rows.length, batch, outW).transpose(0, 1);
        var = var.view(rows.length, batch, outW).transpose(0, 1);
        Tensor yRows = toDouble(y.index_select(2, Tensors.fromLongs(rows, rows.length))); // [B, O, n, W']
        Tensor lhs = sumOver(yRows.mul(r.view(1, outC, 1, 1)), 1);
        Tensor yNorm = sumOver(yRows.square(), 1).sqrt();
        return compare(lhs, rhs, mag, var, yNorm, inC * k * k + (bias != null ? 1 : 0), outputPrecision(x, w, y),
                "output rows " + Arrays.toString(rows));
    }

    // ---- linear ------------------------------------------------------------------------------------------

    static Check checkLinear(Tensor x, Tensor w, Tensor bias, Tensor y) {
        long in = w.size(1);
        long out = w.size(0);
        Tensor r = signs(out);
        Tensor[] proj = project(w, r); // [in] each
        Tensor x2d = x.reshape(-1, in);
        Tensor y2d = y.reshape(-1, out);
        long rows = x2d.size(0);
        Check worst = Check.PASS;
        for (long r0 = 0; r0 < rows; r0 += LINEAR_CHUNK) {
            long n = Math.min(LINEAR_CHUNK, rows - r0);
            try (PointerScope scope = new PointerScope()) {
                Tensor xs = toDouble(x2d.narrow(0, r0, n));
                Tensor ys = toDouble(y2d.narrow(0, r0, n));
                Tensor rhs = xs.matmul(proj[0]);
                Tensor mag = xs.abs().matmul(proj[1]);
                Tensor var = xs.square().matmul(proj[2]);
                if (bias != null) {
                    Tensor b = toDouble(bias);
                    rhs = rhs.add(b.dot(r));
                    mag = mag.add(b.abs().sum());
                    var = var.add(b.square().sum());
                }
                Check c = compare(ys.matmul(r), rhs, mag, var, sumOver(ys.square(), 1).sqrt(), in + (bias != null ? 1 : 0),
                        outputPrecision(x, w, y), "rows " + r0 + ".." + (r0 + n - 1));
                if (c.failure() != null) {
                    return c;
                }
                if (!c.decided()) {
                    worst = Check.UNDECIDED;
                }
            }
        }
        return worst;
    }

    // ---- attention ---------------------------------------------------------------------------------------

    static Check checkAttention(Tensor q, Tensor k, Tensor v, boolean causal, Tensor o) {
        long n = q.size(2);
        long m = k.size(2);
        long d = q.size(3);
        long[] rows = spread(n, ATTENTION_ROWS);
        Tensor idx = Tensors.fromLongs(rows, rows.length);
        Tensor qs = toDouble(q.index_select(2, idx));
        Tensor kd = toDouble(k);
        Tensor vd = toDouble(v);
        Tensor scores = qs.matmul(kd.transpose(2, 3)).mul(Ops.s(1.0 / Math.sqrt(d))); // [B, H, n, M]
        if (causal) {
            float[] mask = new float[rows.length * (int) m];
            for (int i = 0; i < rows.length; i++) {
                for (long j = rows[i] + 1; j < m; j++) {
                    mask[(int) (i * m + j)] = Float.NEGATIVE_INFINITY;
                }
            }
            scores = scores.add(toDouble(Tensors.fromFloats(mask, rows.length, m)));
        }
        Tensor ref = torch.softmax(scores, -1).matmul(vd); // [B, H, n, d]
        Tensor got = toDouble(o.index_select(2, idx));
        if (!torch.isfinite(ref).all().item().toBool()) {
            return Check.UNDECIDED;
        }
        // an output is a convex combination of the rows of v: errors scale with max |v| of its head
        Tensor vMax = vd.abs().amax(new long[] {2, 3}, true); // [B, H, 1, 1]
        double low = Tensors.scalarType(o) == ScalarType.Float ? 0 : unitRoundoff(Tensors.scalarType(o));
        double rel = 8 * (Math.sqrt(m + d) * U32 + 4 * low) + 1e-12;
        Tensor err = got.sub(ref).abs();
        Tensor tol = vMax.mul(Ops.s(rel));
        return verdict(got, err.sub(tol), "query rows " + Arrays.toString(rows), err, tol);
    }

    // ---- backward (training) -----------------------------------------------------------------------------

    /**
     * The gradients training takes from a convolution (libtorch's backward kernels, under autocast if it is
     * on), checked like the forward: the weight gradient projected over output channels, the input gradient
     * projected over input channels, against float64 autograd of a one-channel convolution. The upstream
     * gradient is a fixed pseudo-random tensor.
     */
    static Check checkConvBackward(Tensor x, Tensor w, Tensor bias, long stride, long pad) {
        long outC = w.size(0);
        long inC = w.size(1);
        long k = w.size(2);
        long[] s = {stride, stride};
        long[] p = {pad, pad};
        java.util.function.Function<Tensor[], Tensor> conv = xw -> torch.conv2d(xw[0], xw[1],
                bias == null ? new TensorOptional() : new TensorOptional(bias.detach()), s, p, ONE, 1);
        Tensor g = noise(outShape(x, w, stride, pad), 0x6a4d);
        Tensor[] grads = gradients(x, w, g, conv);
        Tensor gx = grads[0];
        Tensor gw = grads[1];
        ScalarType dtype = lowestPrecision(x, w);
        Tensor xd = toDouble(x);
        Tensor gd = toDouble(g);
        // weight gradient . r over output channels == d/dw1 sum(conv(x, w1) * (g . r)), w1 of one output channel
        Tensor r = signs(outC).view(1, outC, 1, 1);
        Tensor gr = sumOver(gd.mul(r), 1).unsqueeze(1);
        Tensor gAbs = sumOver(gd.abs(), 1).unsqueeze(1);
        Tensor g2 = sumOver(gd.square(), 1).unsqueeze(1);
        long[] oneOut = {1, inC, k, k};
        Tensor rhsW = weightGrad(xd, gr, oneOut, s, p);
        Tensor magW = weightGrad(xd.abs(), gAbs, oneOut, s, p);
        Tensor varW = weightGrad(xd.square(), g2, oneOut, s, p);
        Tensor gwd = toDouble(gw);
        Check cw = compare(sumOver(gwd.mul(r.view(outC, 1, 1, 1)), 0), rhsW.squeeze(0), magW.squeeze(0),
                varW.squeeze(0), sumOver(gwd.square(), 0).sqrt(), g.numel() / outC, dtype, "weight gradient");
        if (cw.failure() != null) {
            return cw;
        }
        // input gradient . q over input channels == d/dx1 sum(conv(x1, W . q) * g), x1 of one input channel
        Tensor q = signs(inC).view(1, inC, 1, 1);
        Tensor[] wq = projectInputs(w.reshape(outC, inC, k * k), q.view(inC)); // [O, k * k] each
        long[] oneIn = {x.size(0), 1, x.size(2), x.size(3)};
        Tensor rhsX = inputGrad(wq[0].view(outC, 1, k, k), gd, oneIn, s, p);
        Tensor magX = inputGrad(wq[1].view(outC, 1, k, k), gd.abs(), oneIn, s, p);
        Tensor varX = inputGrad(wq[2].view(outC, 1, k, k), gd.square(), oneIn, s, p);
        Tensor gxd = toDouble(gx);
        return both(cw, compare(sumOver(gxd.mul(q), 1), rhsX.squeeze(1), magX.squeeze(1), varX.squeeze(1),
                sumOver(gxd.square(), 1).sqrt(), outC * k * k, dtype, "input gradient"));
    }

    /** The gradients of a linear layer (BLAS, or oneDNN in bf16), checked as {@link #checkConvBackward}. */
    static Check checkLinearBackward(Tensor x, Tensor w, Tensor bias) {
        long in = w.size(1);
        long out = w.size(0);
        long[] yShape = Tensors.shape(x);
        yShape[yShape.length - 1] = out;
        Tensor g = noise(yShape, 0x11ea);
        Tensor[] grads = gradients(x, w, g, xw -> torch.linear(xw[0], xw[1],
                bias == null ? new TensorOptional() : new TensorOptional(bias.detach())));
        Tensor gx = grads[0];
        Tensor gw = grads[1];
        ScalarType dtype = lowestPrecision(x, w);
        Tensor x2 = toDouble(x.reshape(-1, in));
        Tensor g2d = toDouble(g.reshape(-1, out));
        long rows = x2.size(0);
        // dW . r = (g r)^T x over [in]; dX . q = g (W q) over [rows]
        Tensor r = signs(out);
        Tensor gr = g2d.matmul(r);
        Tensor gwd = toDouble(gw);
        Check cw = compare(r.matmul(gwd), gr.matmul(x2), sumOver(g2d.abs(), 1).matmul(x2.abs()),
                sumOver(g2d.square(), 1).matmul(x2.square()),
                sumOver(gwd.square(), 0).sqrt(), rows, dtype, "weight gradient");
        if (cw.failure() != null) {
            return cw;
        }
        Tensor q = signs(in);
        Tensor[] wq = projectInputs(w.reshape(out, in, 1), q); // [out, 1] each
        Tensor gxd = toDouble(gx.reshape(-1, in));
        return both(cw, compare(gxd.matmul(q), g2d.matmul(wq[0].view(out)), g2d.abs().matmul(wq[1].view(out)),
                g2d.square().matmul(wq[2].view(out)), sumOver(gxd.square(), 1).sqrt(), out, dtype,
                "input gradient"));
    }

    /**
     * d/dx and d/dw of sum(layer(x, w) * g) through libtorch's backward kernels (and autocast, if on), on a
     * heap whose freed blocks of the operands' sizes hold NaN.
     */
    private static Tensor[] gradients(Tensor x, Tensor w, Tensor g, java.util.function.Function<Tensor[], Tensor> layer) {
        poisonHeap(x.nbytes(), w.nbytes(), g.nbytes());
        try (AutoGradMode on = new AutoGradMode(true)) {
            Tensor xg = x.detach().requires_grad_(true);
            Tensor wg = w.detach().requires_grad_(true);
            layer.apply(new Tensor[] {xg, wg}).to(ScalarType.Float).mul(g).sum().backward();
            return new Tensor[] {xg.grad(), wg.grad()};
        }
    }

    private static long[] outShape(Tensor x, Tensor w, long stride, long pad) {
        long k = w.size(2);
        return new long[] {x.size(0), w.size(0), (x.size(2) + 2 * pad - k) / stride + 1,
            (x.size(3) + 2 * pad - k) / stride + 1};
    }

    /** d/dw of sum(conv(x, w) * g) for w of {@code shape}, in float64. */
    private static Tensor weightGrad(Tensor x, Tensor g, long[] shape, long[] s, long[] p) {
        try (AutoGradMode on = new AutoGradMode(true)) {
            Tensor w1 = torch.zeros(shape, Tensors.options(ScalarType.Double)).requires_grad_(true);
            torch.conv2d(x, w1, new TensorOptional(), s, p, ONE, 1).mul(g).sum().backward();
            return w1.grad();
        }
    }

    /** d/dx of sum(conv(x, w) * g) for x of {@code shape}, in float64. */
    private static Tensor inputGrad(Tensor w, Tensor g, long[] shape, long[] s, long[] p) {
        try (AutoGradMode on = new AutoGradMode(true)) {
            Tensor x1 = torch.zeros(shape, Tensors.options(ScalarType.Double)).requires_grad_(true);
            torch.conv2d(x1, w, new TensorOptional(), s, p, ONE, 1).mul(g).sum().backward();
            return x1.grad();
        }
    }

    /** A fixed pseudo-random float32 tensor, from its own generator (libtorch's seeded one is left alone). */
    static Tensor noise(long[] shape, long seed) {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return Tensors.fromFloats(v, shape);
    }

    /** The dtype the kernel computed in: bf16 under CPU autocast, else the lowest of the operands'. */
    private static ScalarType lowestPrecision(Tensor x, Tensor w) {
        if (torch.is_autocast_enabled(org.bytedeco.pytorch.global.torch.DeviceType.CPU)) {
            return Tensors.scalarType(torch.get_autocast_dtype(org.bytedeco.pytorch.global.torch.DeviceType.CPU));
        }
        ScalarType a = Tensors.scalarType(x);
        return a != ScalarType.Float ? a : Tensors.scalarType(w);
    }

    private static ScalarType outputPrecision(Tensor x, Tensor w, Tensor y) {
        ScalarType out = Tensors.scalarType(y);
        return out == ScalarType.Float ? lowestPrecision(x, w) : out;
    }

    private static Check both(Check a, Check b) {
        if (a.failure() != null) {
            return a;
        }
        if (b.failure() != null) {
            return b;
        }
        return a.decided() && b.decided() ? Check.PASS : Check.UNDECIDED;
    }

    // ---- shared ------------------------------------------------------------------------------------------

    /**
     * Compares Freivalds projections: lhs = y . r from the kernel and rhs the same in float64, with mag the
     * float64 sum of the absolute products, var the sum of the squared products and yNorm = |y|_2 over the
     * output channels, all per checked position. The rounding the bound allows: float32 accumulation of K
     * products, as a random walk (8 sqrt(K) u sqrt(var)) and, for products of one sign, as SIMD lanes of at
     * least 8 summing K/8 terms each (K/8 u mag); for a half-precision output its final rounding (5 u yNorm:
     * r's signs make the projected roundings a random walk) and the rounding of its inputs and partial sums
     * (8 u sqrt(var): under autocast the kernel multiplies bf16 copies of float32 operands).
     * A kernel that drops, repeats or invents a block of products errs by the order of sqrt(var), thousands of
     * times the bound in float32; in bf16 the bound is a few percent of it.
     */
    private static Check compare(Tensor lhs, Tensor rhs, Tensor mag, Tensor var, Tensor yNorm, long terms,
                                 ScalarType dtype, String where) {
        if (!torch.isfinite(rhs).all().item().toBool()) {
            return Check.UNDECIDED;
        }
        double low = dtype == ScalarType.Float || dtype == ScalarType.Double ? 0 : unitRoundoff(dtype);
        Tensor sd = var.sqrt();
        Tensor tol = mag.mul(Ops.s(terms / 8.0 * U32))
                .add(sd.mul(Ops.s(8 * Math.sqrt(terms) * U32 + 8 * low)))
                .add(yNorm.mul(Ops.s(5 * low)))
                .add(Ops.s(1e-30));
        Tensor err = lhs.sub(rhs).abs();
        return verdict(lhs, err.sub(tol), where, err, tol);
    }

    private static Check verdict(Tensor got, Tensor excess, String where, Tensor err, Tensor tol) {
        if (!torch.isfinite(got).all().item().toBool()) {
            return Check.fail("non-finite values where float64 has finite ones (" + where + ")");
        }
        double worst = excess.max().item().toDouble();
        if (worst > 0) {
            long at = excess.flatten(0, -1).argmax().item().toLong();
            double e = err.flatten(0, -1).select(0, at).item().toDouble();
            double t = tol.expand_as(err).flatten(0, -1).select(0, at).item().toDouble();
            return Check.fail(String.format("differs from float64 by %.3g where rounding allows %.3g (%s)", e, t,
                    where));
        }
        return Check.PASS;
    }

    /**
     * sum_o r_o W_o, sum_o |W_o| and sum_o W_o^2 of W [O, K] in float64, 8 MB of rows at a time, each chunk's
     * temporaries freed before the next (a 1280-channel 3x3 weight is 118 MB in float64).
     */
    private static Tensor[] project(Tensor w, Tensor r) {
        long outC = w.size(0);
        long k = w.numel() / Math.max(1, outC);
        long chunk = Math.max(1, (8L << 20) / (8 * Math.max(1, k)));
        Tensor wr = torch.zeros(new long[] {k}, Tensors.options(ScalarType.Double));
        Tensor wa = torch.zeros(new long[] {k}, Tensors.options(ScalarType.Double));
        Tensor w2 = torch.zeros(new long[] {k}, Tensors.options(ScalarType.Double));
        for (long o0 = 0; o0 < outC; o0 += chunk) {
            long n = Math.min(chunk, outC - o0);
            try (PointerScope scope = new PointerScope()) {
                Tensor wc = toDouble(w.narrow(0, o0, n).reshape(n, k));
                wr.add_(r.narrow(0, o0, n).matmul(wc));
                wa.add_(sumOver(wc.abs(), 0));
                w2.add_(sumOver(wc.square(), 0));
            }
        }
        return new Tensor[] {wr, wa, w2};
    }

    /** sum_c q_c W[:, c], sum_c |W[:, c]| and sum_c W[:, c]^2 of W [O, C, P] in float64, by 8 MB chunks of O. */
    private static Tensor[] projectInputs(Tensor w, Tensor q) {
        long outC = w.size(0);
        long rest = w.size(1) * w.size(2);
        long chunk = Math.max(1, (8L << 20) / (8 * Math.max(1, rest)));
        long[] shape = {outC, w.size(2)};
        Tensor[] parts = {torch.zeros(shape, Tensors.options(ScalarType.Double)),
            torch.zeros(shape, Tensors.options(ScalarType.Double)), torch.zeros(shape, Tensors.options(ScalarType.Double))};
        for (long o0 = 0; o0 < outC; o0 += chunk) {
            long n = Math.min(chunk, outC - o0);
            try (PointerScope scope = new PointerScope()) {
                Tensor wc = toDouble(w.narrow(0, o0, n)); // [n, C, P]
                parts[0].narrow(0, o0, n).copy_(sumOver(wc.mul(q.view(1, -1, 1)), 1));
                parts[1].narrow(0, o0, n).copy_(sumOver(wc.abs(), 1));
                parts[2].narrow(0, o0, n).copy_(sumOver(wc.square(), 1));
            }
        }
        return parts;
    }

    /** A fixed pseudo-random +-1 vector of length n in float64 (its own generator: the seed stream is untouched). */
    private static Tensor signs(long n) {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(0x5eed_1dea_2022L + n);
        float[] s = new float[(int) n];
        for (int i = 0; i < n; i++) {
            s[i] = rnd.nextBoolean() ? 1f : -1f;
        }
        return toDouble(Tensors.fromFloats(s, n));
    }

    /** Up to {@code max} of 0..n-1: the first two, the last two and an even spread between. */
    static long[] spread(long n, int max) {
        if (n <= max) {
            long[] all = new long[(int) n];
            for (int i = 0; i < n; i++) {
                all[i] = i;
            }
            return all;
        }
        java.util.TreeSet<Long> picked = new java.util.TreeSet<>(java.util.List.of(0L, 1L, n - 2, n - 1));
        for (int i = 0; i < max - 4; i++) {
            picked.add(Math.round((double) i * (n - 1) / (max - 5)));
        }
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(n);
        while (picked.size() < max) {
            picked.add(rnd.nextLong(n));
        }
        return picked.stream().mapToLong(Long::longValue).toArray();
    }

    private static Tensor sumOver(Tensor t, long dim) {
        return t.sum(new long[] {dim}, false, new ScalarTypeOptional());
    }

    private static double unitRoundoff(ScalarType t) {
        return switch (t) {
            case BFloat16 -> Math.pow(2, -8);
            case Half -> Math.pow(2, -11);
            default -> U32;
        };
    }

    private static Tensor toDouble(Tensor t) {
        return t.to(ScalarType.Double);
    }

    private static String describe(Tensor t) {
        String layout = t.is_contiguous() ? "" : t.is_contiguous(torch.MemoryFormat.ChannelsLast) ? " cl" : " strided";
        return Tensors.scalarType(t) + Tensors.shapeString(t) + layout;
    }
}
