package dev.ldm4j.sampling;

import static dev.ldm4j.Fixtures.assertClose;
import static dev.ldm4j.nn.Ops.s;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.Golden.Captured;
import dev.ldm4j.sampling.Golden.Recorder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The k-diffusion samplers against the stored reference trajectories, without a UNet: an oracle model answers
 * each evaluation with the raw output that makes the denoiser produce the reference's denoised prediction for
 * the latent it actually received, so the sampler's own step arithmetic, input scaling, timesteps and
 * bookkeeping decide whether the stored latents are reproduced.
 */
class KDiffusionSamplersTest {
    /** One expected model evaluation: its noise level and the denoised value wanted for the unscaled input. */
    record Call(float sigma, UnaryOperator<Tensor> denoisedFor) {}

    static final class Oracle implements ModelFn {
        final List<Call> calls;
        final Prediction prediction;
        final List<Float> timesteps = new ArrayList<>();
        final List<Captured> inputs = new ArrayList<>();

        Oracle(List<Call> calls, Prediction prediction) {
            this.calls = calls;
            this.prediction = prediction;
        }

        @Override
        public Tensor apply(Tensor scaledX, Tensor t) {
            Call c = calls.get(timesteps.size());
            assertEquals(1, t.size(0), "one timestep per batch element");
            timesteps.add(Tensors.toFloats(t)[0]);
            double sigma = c.sigma();
            double variance = sigma * sigma + 1;
            Tensor x = scaledX.mul(s(Math.sqrt(variance)));
            inputs.add(Captured.of(x));
            Tensor denoised = c.denoisedFor().apply(x);
            if (prediction == Prediction.EPS) {
                return x.sub(denoised).div(s(sigma));
            }
            // CompVisVDenoiser: denoised = v * c_out + x * c_skip
            return denoised.sub(x, s(1 / variance)).div(s(-sigma / Math.sqrt(variance)));
        }
    }

    @Test
    void euler() {
        firstOrder("sd1-tiny", "kdiff_euler", "euler", Prediction.EPS);
    }

    @Test
    void dpmpp2m() {
        firstOrder("sd1-tiny", "kdiff_dpmpp_2m", "dpm++2m", Prediction.EPS);
    }

    @Test
    void eulerWithVPrediction() {
        firstOrder("sd2-tiny", "kdiff_euler_v", "euler", Prediction.V);
    }

    /** Samplers with one evaluation per step: the oracle returns denoised_steps[i] at call i. */
    private static void firstOrder(String folder, String id, String samplerName, Prediction prediction) {
        float[] sigmas = Golden.floats(folder, id, "sigmas");
        Tensor denoised = Golden.read(folder, id, "denoised_steps");
        List<Call> calls = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Tensor target = denoised.select(0, i);
            calls.add(new Call(sigmas[i], x -> target));
        }
        Oracle oracle = new Oracle(calls, prediction);
        Run run = run(folder, id, samplerName, oracle);
        assertEquals(10, oracle.timesteps.size(), "model evaluations");
        checkTimesteps(folder, id, oracle.timesteps, timestepIndices(10));
        Golden.assertSteps(Golden.read(folder, id, "x_steps"), oracle.inputs, 0, Golden.tol(folder, id, "x_steps"), id + " model input x");
        run.check(folder, id);
    }

    @Test
    void heun() {
        String folder = "sd1-tiny";
        String id = "kdiff_heun";
        float[] sigmas = Golden.floats(folder, id, "sigmas");
        Tensor denoised = Golden.read(folder, id, "denoised_steps");
        Tensor xSteps = Golden.read(folder, id, "x_steps");
        Tensor last = Golden.read(folder, id, "final_latent");
        // The case stores only the first evaluation of each step. The second one, at sigma_{i+1} on
        // x_2 = x_i + d_i dt, is pinned by the stored next latent: x_{i+1} = x_i + (d_i + d2_i) / 2 dt.
        List<Call> calls = new ArrayList<>();
        List<Tensor> expectedSecondInputs = new ArrayList<>();
        List<Integer> sigmaIndex = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Tensor target = denoised.select(0, i);
            calls.add(new Call(sigmas[i], x -> target));
            sigmaIndex.add(i);
            if (i < 9) {
                Tensor xi = xSteps.select(0, i);
                Tensor xNext = i + 1 < 10 ? xSteps.select(0, i + 1) : last;
                double dt = (double) sigmas[i + 1] - sigmas[i];
                Tensor d = xi.sub(target).div(s(sigmas[i]));
                Tensor d2 = xNext.sub(xi).mul(s(2 / dt)).sub(d);
                float next = sigmas[i + 1];
                calls.add(new Call(next, x2 -> x2.sub(d2, s(next))));
                expectedSecondInputs.add(xi.add(d, s(dt)));
                sigmaIndex.add(i + 1);
            }
        }
        Oracle oracle = new Oracle(calls, Prediction.EPS);
        Run run = run(folder, id, "heun", oracle);
        assertEquals(19, oracle.timesteps.size(), "model evaluations: two per step, one on the step to 0");
        checkTimesteps(folder, id, oracle.timesteps, sigmaIndex);
        double tol = Golden.tol(folder, id, "x_steps");
        for (int i = 0; i < 10; i++) {
            assertClose(xSteps.select(0, i), oracle.inputs.get(2 * i).tensor(), tol, "first evaluation input " + i);
            if (i < 9) {
                assertClose(expectedSecondInputs.get(i), oracle.inputs.get(2 * i + 1).tensor(), tol, "second evaluation input " + i);
            }
        }
        run.check(folder, id);
    }

    private static List<Integer> timestepIndices(int n) {
        List<Integer> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(i);
        }
        return l;
    }

    private static void checkTimesteps(String folder, String id, List<Float> seen, List<Integer> sigmaIndex) {
        float[] expected = Golden.floats(folder, id, "t_of_sigma");
        double tol = Golden.tol(folder, id, "t_of_sigma");
        for (int k = 0; k < seen.size(); k++) {
            assertEquals(expected[sigmaIndex.get(k)], seen.get(k), tol, id + " timestep of evaluation " + k);
        }
    }

    /** A finished run: its result and what the listener saw. */
    record Run(Tensor result, Recorder recorder) {
        void check(String folder, String id) {
            Tensor xSteps = Golden.read(folder, id, "x_steps");
            Tensor last = Golden.read(folder, id, "final_latent");
            double tolX = Golden.tol(folder, id, "x_steps");
            assertEquals(10, recorder.latents.size(), "callbacks");
            for (int i = 0; i < 10; i++) {
                assertEquals(10, recorder.counts.get(i));
                Tensor expected = i < 9 ? xSteps.select(0, i + 1) : last;
                assertClose(expected, recorder.latents.get(i).tensor(), i < 9 ? tolX : Golden.tol(folder, id, "final_latent"),
                        id + " latent after step " + i);
            }
            Golden.assertSteps(Golden.read(folder, id, "denoised_steps"), recorder.denoised, 0,
                    Golden.tol(folder, id, "denoised_steps"), id + " denoised");
            assertClose(last, result, Golden.tol(folder, id, "final_latent"), id + " final_latent");
        }
    }

    private static Run run(String folder, String id, String samplerName, Oracle oracle) {
        NoiseSchedule schedule = Golden.checkpointSchedule(folder);
        Sampler sampler = Samplers.byName(samplerName);
        Plan plan = sampler.plan(schedule, Scheduler.KARRAS, 10);
        Tensor xT = Golden.read(folder, id, "x_T");
        Tensor x = plan.initialLatent(xT);
        assertClose(Golden.read(folder, id, "x_init"), x, Golden.tol(folder, id, "x_init"), id + " x_init");
        Recorder recorder = new Recorder();
        try (SeededNoise noise = new SeededNoise(0)) {
            Tensor result = sampler.sample(new Denoiser(oracle, oracle.prediction, schedule), plan, x, noise, recorder);
            return new Run(result, recorder);
        }
    }
}
