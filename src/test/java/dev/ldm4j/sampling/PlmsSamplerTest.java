package dev.ldm4j.sampling;

import static dev.ldm4j.Fixtures.assertClose;
import static dev.ldm4j.nn.Ops.s;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.Golden.Captured;
import dev.ldm4j.sampling.Golden.Recorder;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/**
 * CompVis PLMS against plms_cfg without a UNet. The PLMS and DDIM cases share x_T, prompt and model, so the
 * first evaluation (t = 901 on x_T) is ddim_cfg's, whose eps follows from its stored pred_x0, and the
 * provisional latent the second evaluation receives must be ddim_cfg's latent after step 1. The remaining
 * outputs are pinned by plms_cfg's stored latents: each latent fixes the combined eps' of its step, and
 * inverting the pseudo-Euler / Adams-Bashforth combination with the earlier raw outputs gives the raw eps
 * the model must have returned.
 */
class PlmsSamplerTest {
    private static final String SD1 = "sd1-tiny";

    @Test
    void reproducesCompVisPlms() {
        NoiseSchedule schedule = Golden.checkpointSchedule(SD1);
        Tensor xT = Golden.read(SD1, "plms_cfg", "x_T");
        assertClose(Golden.read(SD1, "ddim_cfg", "x_T"), xT, 0.0, "both cases start from the same x_T");
        Tensor latents = Golden.read(SD1, "plms_cfg", "latent_steps");
        int[] ts = {901, 801, 701, 601, 501, 401, 301, 201, 101, 1};

        double a0 = schedule.alphaCumprod(901);
        Tensor eps0 = xT.sub(Golden.read(SD1, "ddim_cfg", "pred_x0_steps").select(0, 0), s(Math.sqrt(a0))).div(s(Math.sqrt(1 - a0)));
        List<Tensor> raw = new ArrayList<>(); // the raw eps of the first evaluation of each step
        raw.add(eps0);
        List<Tensor> answers = new ArrayList<>();
        answers.add(eps0);
        answers.add(combinedEps(schedule, ts, 0, xT, latents.select(0, 0)).mul(s(2)).sub(eps0));
        for (int i = 1; i < 10; i++) {
            Tensor e = combinedEps(schedule, ts, i, latents.select(0, i - 1), latents.select(0, i));
            int h = raw.size() - 1; // index of the most recent earlier output
            Tensor r = switch (Math.min(i, 3)) {
                case 1 -> e.mul(s(2)).add(raw.get(h)).div(s(3));
                case 2 -> e.mul(s(12)).add(raw.get(h), s(16)).sub(raw.get(h - 1), s(5)).div(s(23));
                default -> e.mul(s(24)).add(raw.get(h), s(59)).sub(raw.get(h - 1), s(37)).add(raw.get(h - 2), s(9)).div(s(55));
            };
            raw.add(r);
            answers.add(r);
        }

        List<Integer> seen = new ArrayList<>();
        List<Captured> inputs = new ArrayList<>();
        ModelFn oracle = (x, t) -> {
            seen.add((int) Tensors.toFloats(t)[0]);
            inputs.add(Captured.of(x));
            return answers.get(seen.size() - 1);
        };
        Sampler plms = Samplers.byName("plms");
        Plan plan = plms.plan(schedule, Scheduler.DISCRETE, 10);
        Recorder rec = new Recorder();
        Tensor result;
        try (SeededNoise noise = new SeededNoise(3)) {
            result = plms.sample(new Denoiser(oracle, Prediction.EPS, schedule), plan, plan.initialLatent(xT), noise, rec);
        }
        assertArrayEquals(new Integer[] {901, 801, 801, 701, 601, 501, 401, 301, 201, 101, 1}, seen.toArray(new Integer[0]),
                "steps + 1 evaluations: the first step also evaluates at the next timestep");
        assertClose(Golden.read(SD1, "ddim_cfg", "latent_after_step1"), inputs.get(1).tensor(),
                Golden.tol(SD1, "ddim_cfg", "latent_after_step1"), "provisional DDIM latent of the first step");
        for (int i = 1; i < 10; i++) {
            assertClose(latents.select(0, i - 1), inputs.get(i + 1).tensor(), Golden.tol(SD1, "plms_cfg", "latent_steps"),
                    "model input of step " + i);
        }
        Golden.assertSteps(latents, rec.latents, 0, Golden.tol(SD1, "plms_cfg", "latent_steps"), "plms latent");
        assertClose(Golden.read(SD1, "plms_cfg", "final_latent"), result, Golden.tol(SD1, "plms_cfg", "final_latent"), "final_latent");
    }

    /** The eps' that takes x to xNext by step i's eta-0 DDIM update. */
    private static Tensor combinedEps(NoiseSchedule schedule, int[] ts, int i, Tensor x, Tensor xNext) {
        double a = schedule.alphaCumprod(ts[i]);
        double aPrev = schedule.alphaCumprod(i + 1 < ts.length ? ts[i + 1] : 0);
        double ratio = Math.sqrt(aPrev / a);
        return xNext.sub(x, s(ratio)).div(s(Math.sqrt(1 - aPrev) - ratio * Math.sqrt(1 - a)));
    }

    @Test
    void oneStepEvaluatesTwiceAtTheSameTimestep() {
        NoiseSchedule schedule = NoiseSchedule.stableDiffusion();
        List<Float> seen = new ArrayList<>();
        ModelFn model = (x, t) -> {
            seen.add(Tensors.toFloats(t)[0]);
            return x.mul(s(0.1));
        };
        Sampler plms = Samplers.byName("plms");
        try (SeededNoise noise = new SeededNoise(1)) {
            plms.sample(new Denoiser(model, Prediction.EPS, schedule), plms.plan(schedule, Scheduler.DISCRETE, 1),
                    noise.randn(1, 4, 8, 8), noise);
        }
        assertEquals(List.of(1f, 1f), seen);
    }
}
