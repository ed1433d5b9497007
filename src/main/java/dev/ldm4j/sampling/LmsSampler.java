package dev.ldm4j.sampling;

import org.bytedeco.pytorch.Tensor;

/**
 * k-diffusion sample_lms (order 4): linear multistep in sigma over the derivatives of the last (up to) four
 * steps, each weighted by the integral over [sigma_i, sigma_i+1] of its Lagrange basis polynomial. The
 * reference integrates numerically (scipy quad); the polynomials have degree at most 3, which 4-point
 * Gauss-Legendre integrates exactly. No random draws.
 */
final class LmsSampler extends SigmaSampler {
    private static final int ORDER = 4;
    private static final double[] NODES = {-0.8611363115940526, -0.3399810435848563, 0.3399810435848563,
        0.8611363115940526};
    private static final double[] WEIGHTS = {0.3478548451374538, 0.6521451548625461, 0.6521451548625461,
        0.3478548451374538};

    LmsSampler() {
        super(SamplerKind.LMS);
    }

    @Override
    Run start(Denoiser denoiser, Sigmas plan, SeededNoise noise) {
        return new Run() {
            private final java.util.ArrayDeque<Tensor> ds = new java.util.ArrayDeque<>(); // held, newest first

            @Override
            public StepResult step(int i, Tensor x) {
                float sigma = plan.get(i);
                Tensor denoised = denoiser.denoise(x, sigma);
                ds.addFirst(Handles.hold(derivative(x, denoised, sigma)));
                if (ds.size() > ORDER) {
                    Handles.drop(ds.removeLast());
                }
                int order = Math.min(i + 1, ORDER);
                Tensor out = x;
                int j = 0;
                for (Tensor d : ds) {
                    out = out.add(d, dev.ldm4j.nn.Ops.s(coefficient(plan, order, i, j++)));
                }
                return new StepResult(out, denoised);
            }

            @Override
            public void close() {
                ds.forEach(Handles::drop);
                ds.clear();
            }
        };
    }

    /** The weight of the derivative j steps back: the integral of its Lagrange basis polynomial. */
    static double coefficient(Sigmas plan, int order, int i, int j) {
        double a = plan.get(i);
        double b = plan.get(i + 1);
        double sum = 0;
        for (int n = 0; n < NODES.length; n++) {
            double tau = (b - a) / 2 * NODES[n] + (a + b) / 2;
            double prod = 1;
            for (int k = 0; k < order; k++) {
                if (k != j) {
                    prod *= (tau - plan.get(i - k)) / ((double) plan.get(i - j) - plan.get(i - k));
                }
            }
            sum += WEIGHTS[n] * prod;
        }
        return sum * (b - a) / 2;
    }
}
