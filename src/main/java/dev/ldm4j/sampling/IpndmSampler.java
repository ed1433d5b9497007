package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import java.util.ArrayDeque;
import org.bytedeco.pytorch.Tensor;

/**
 * Improved PNDM (Zhang and Chen, "Fast Sampling of Diffusion Models with Exponential Integrator", 2023), as
 * ComfyUI's sample_ipndm / sample_ipndm_v take it from zju-pi/diff-sampler: an Adams-Bashforth multistep in
 * sigma over the derivatives of the last (up to) four steps. {@code ipndm} uses the fixed-step coefficients
 * (3, -1)/2, (23, -16, 5)/12, (55, -59, 37, -9)/24; {@code ipndm_v} the variable-step ones, from the actual
 * sigma gaps. The step to sigma 0 returns the denoised latent. No random draws.
 *
 * <p>stable-diffusion.cpp's versions differ: its last step uses the multistep formula too, and its ipndm_v
 * uses the fixed coefficients from the third step on.
 */
final class IpndmSampler extends SigmaSampler {
    private static final int MAX_ORDER = 4;
    private final boolean variableStep;

    IpndmSampler(boolean variableStep) {
        super(variableStep ? SamplerKind.IPNDM_V : SamplerKind.IPNDM);
        this.variableStep = variableStep;
    }

    @Override
    Run start(Denoiser denoiser, Sigmas plan, SeededNoise noise) {
        return new Run() {
            private final ArrayDeque<Tensor> history = new ArrayDeque<>(); // held, newest first

            @Override
            public StepResult step(int i, Tensor x) {
                float sigma = plan.get(i);
                float next = plan.get(i + 1);
                Tensor denoised = denoiser.denoise(x, sigma);
                Tensor d = derivative(x, denoised, sigma);
                Tensor out;
                if (next == 0f) {
                    out = denoised;
                } else {
                    double[] c = variableStep ? variableCoefficients(plan, i) : fixedCoefficients(Math.min(i + 1, MAX_ORDER));
                    Tensor slope = d.mul(s(c[0]));
                    int k = 1;
                    for (Tensor h : history) {
                        if (k >= c.length) {
                            break;
                        }
                        slope = slope.add(h, s(c[k++]));
                    }
                    out = x.add(slope, s((double) next - sigma));
                }
                history.addFirst(Handles.hold(d));
                if (history.size() > MAX_ORDER - 1) {
                    Handles.drop(history.removeLast());
                }
                return new StepResult(out, denoised);
            }

            @Override
            public void close() {
                history.forEach(Handles::drop);
                history.clear();
            }
        };
    }

    static double[] fixedCoefficients(int order) {
        return switch (order) {
            case 1 -> new double[] {1};
            case 2 -> new double[] {3 / 2.0, -1 / 2.0};
            case 3 -> new double[] {23 / 12.0, -16 / 12.0, 5 / 12.0};
            default -> new double[] {55 / 24.0, -59 / 24.0, 37 / 24.0, -9 / 24.0};
        };
    }

    /** The variable-step Adams-Bashforth weights of step i from the gaps h_n, h_n-1, ... between sigmas. */
    static double[] variableCoefficients(Sigmas plan, int i) {
        int order = Math.min(i + 1, MAX_ORDER);
        if (order == 1) {
            return new double[] {1};
        }
        double h = (double) plan.get(i + 1) - plan.get(i);
        double h1 = (double) plan.get(i) - plan.get(i - 1);
        double r = h / h1;
        if (order == 2) {
            return new double[] {(2 + r) / 2, -r / 2};
        }
        double h2 = (double) plan.get(i - 1) - plan.get(i - 2);
        double temp1 = (1 - h / (3 * (h + h1)) * (h * (h + h1)) / (h1 * (h1 + h2))) / 2;
        if (order == 3) {
            return new double[] {(2 + r) / 2 + temp1, -r / 2 - (1 + h1 / h2) * temp1, temp1 * h1 / h2};
        }
        double h3 = (double) plan.get(i - 2) - plan.get(i - 3);
        double temp2 = ((1 - h / (3 * (h + h1))) / 2 + (1 - h / (2 * (h + h1))) * h / (6 * (h + h1 + h2)))
                * (h * (h + h1) * (h + h1 + h2)) / (h1 * (h1 + h2) * (h1 + h2 + h3));
        double q = h1 * (h1 + h2) / (h2 * (h2 + h3));
        return new double[] {
            (2 + r) / 2 + temp1 + temp2,
            -r / 2 - (1 + h1 / h2) * temp1 - (1 + h1 / h2 + q) * temp2,
            temp1 * h1 / h2 + (h1 / h2 + q * (1 + h2 / h3)) * temp2,
            -temp2 * q * h1 / h2};
    }
}
