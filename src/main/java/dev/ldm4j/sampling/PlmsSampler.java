package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import org.bytedeco.pytorch.Tensor;

/**
 * CompVis PLMSSampler (eta 0). The first step is a pseudo improved Euler step: eps at t, a provisional DDIM
 * step to the next timestep, eps there, and the mean of the two. Later steps combine the current eps with
 * the previous model outputs (not the combined values) by Adams-Bashforth of order 2, 3, then 4. steps + 1
 * model evaluations and steps + 1 random draws (one per DDIM update, unused at eta 0, as in CompVis).
 */
final class PlmsSampler extends TimestepSampler {
    /** Adams-Bashforth weights of eps, eps[-1], ... and their divisor, by the number of earlier outputs. */
    private static final int[][] ADAMS_BASHFORTH = {
        {3, -1, 2},
        {23, -16, 5, 12},
        {55, -59, 37, -9, 24},
    };

    PlmsSampler() {
        super(SamplerKind.PLMS);
    }

    @Override
    Run start(Denoiser denoiser, Timesteps plan, SeededNoise noise) {
        NoiseSchedule schedule = denoiser.schedule();
        Deque<Tensor> history = new ArrayDeque<>(); // most recent first, at most 3
        return new Run() {
            @Override
            public StepResult step(int i, Tensor x) {
                int t = plan.get(i);
                Tensor eps = denoiser.eps(x, t);
                Tensor combined;
                if (history.isEmpty()) {
                    Tensor provisional = update(x, eps, i).latent();
                    int tNext = plan.get(Math.min(i + 1, plan.steps() - 1));
                    Tensor epsNext = denoiser.eps(provisional, tNext);
                    combined = eps.add(epsNext).mul(s(0.5));
                } else {
                    int[] c = ADAMS_BASHFORTH[history.size() - 1];
                    combined = eps.mul(s(c[0]));
                    Iterator<Tensor> older = history.iterator();
                    for (int k = 1; k < c.length - 1; k++) {
                        combined = combined.add(older.next(), s(c[k]));
                    }
                    combined = combined.div(s(c[c.length - 1]));
                }
                StepResult r = update(x, combined, i);
                history.addFirst(Handles.hold(eps));
                if (history.size() > 3) {
                    Handles.drop(history.removeLast());
                }
                return r;
            }

            /** The DDIM update with eta 0 from x at step i along eps, drawing the unused noise. */
            private StepResult update(Tensor x, Tensor eps, int i) {
                int t = plan.get(i);
                float aPrev = alphaPrev(schedule, plan, i);
                Tensor x0 = denoiser.x0FromEps(x, eps, t);
                randnLike(noise, x);
                Tensor next = x0.mul(s(Math.sqrt(aPrev))).add(eps, s(Math.sqrt(1.0 - aPrev)));
                return new StepResult(next, x0);
            }

            @Override
            public void close() {
                history.forEach(Handles::drop);
                history.clear();
            }
        };
    }
}
