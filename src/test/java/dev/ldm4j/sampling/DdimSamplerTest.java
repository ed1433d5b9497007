package dev.ldm4j.sampling;

import static dev.ldm4j.Fixtures.assertClose;
import static dev.ldm4j.nn.Ops.s;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.Golden.Recorder;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/**
 * CompVis DDIM against the stored runs, without a UNet. Where the case stores pred_x0, the oracle returns the
 * output whose x0 is the stored one for the latent the sampler actually passes, so the DDIM update itself is
 * checked. The img2img and blending cases store no pred_x0; there the oracle is pinned by the stored next
 * latent and the tests check what they are about: the noising, the visited timesteps and the random stream.
 */
class DdimSamplerTest {
    private static final int[] TIMESTEPS = {901, 801, 701, 601, 501, 401, 301, 201, 101, 1};

    /** Answers the call at timestep t with the eps / v whose x0 is the stored pred_x0 of that step. */
    static final class X0Oracle implements ModelFn {
        final NoiseSchedule schedule;
        final Prediction prediction;
        final int[] timesteps;
        final Tensor predX0;
        final List<Integer> seen = new ArrayList<>();

        X0Oracle(NoiseSchedule schedule, Prediction prediction, int[] timesteps, Tensor predX0) {
            this.schedule = schedule;
            this.prediction = prediction;
            this.timesteps = timesteps;
            this.predX0 = predX0;
        }

        @Override
        public Tensor apply(Tensor x, Tensor t) {
            int i = seen.size();
            float tf = Tensors.toFloats(t)[0];
            seen.add((int) tf);
            assertEquals(timesteps[i], tf, 0f, "timestep of evaluation " + i);
            double a = schedule.alphaCumprod(timesteps[i]);
            Tensor x0 = predX0.select(0, i);
            if (prediction == Prediction.EPS) {
                return x.sub(x0, s(Math.sqrt(a))).div(s(Math.sqrt(1 - a)));
            }
            // x0 = sqrt(a) x - sqrt(1 - a) v
            return x.mul(s(Math.sqrt(a))).sub(x0).div(s(Math.sqrt(1 - a)));
        }
    }

    @Test
    void sd1GuidedRun() {
        checkWithPredX0("sd1-tiny", "ddim_cfg", Prediction.EPS, Samplers.byName("ddim"), 0);
    }

    @Test
    void sd2VPredictionRun() {
        checkWithPredX0("sd2-tiny", "ddim_cfg", Prediction.V, Samplers.byName("ddim"), 0);
    }

    @Test
    void eta1DrawsItsNoiseFromTheSeededStream() {
        checkWithPredX0("sd1-tiny", "ddim_eta1_seeded", Prediction.EPS, Samplers.ddim(1.0), 1234);
    }

    private static void checkWithPredX0(String folder, String id, Prediction prediction, Sampler sampler, long seed) {
        NoiseSchedule schedule = Golden.checkpointSchedule(folder);
        Plan plan = sampler.plan(schedule, Scheduler.DISCRETE, 10);
        assertArrayEquals(TIMESTEPS, ((Timesteps) plan).values());
        X0Oracle oracle = new X0Oracle(schedule, prediction, TIMESTEPS, Golden.read(folder, id, "pred_x0_steps"));
        Recorder rec = new Recorder();
        Tensor result;
        try (SeededNoise noise = new SeededNoise(seed)) {
            Tensor xT = Golden.read(folder, id, "x_T");
            result = sampler.sample(new Denoiser(oracle, prediction, schedule), plan, plan.initialLatent(xT), noise, rec);
        }
        assertEquals(10, oracle.seen.size(), "model evaluations");
        assertClose(Golden.read(folder, id, "latent_after_step1"), rec.latents.get(0).tensor(),
                Golden.tol(folder, id, "latent_after_step1"), id + " latent_after_step1");
        Golden.assertSteps(Golden.read(folder, id, "latent_steps"), rec.latents, 0, Golden.tol(folder, id, "latent_steps"), id + " latent");
        Golden.assertSteps(Golden.read(folder, id, "pred_x0_steps"), rec.denoised, 0, Golden.tol(folder, id, "pred_x0_steps"), id + " pred_x0");
        assertClose(Golden.read(folder, id, "final_latent"), result, Golden.tol(folder, id, "final_latent"), id + " final_latent");
    }

    /**
     * A model pinned by the stored latents alone: at step i it returns the eps that takes the latent it
     * receives to {@code latents[i]} under an eta-0 DDIM step (the stored runs have no pred_x0).
     */
    static final class NextLatentOracle implements ModelFn {
        final NoiseSchedule schedule;
        final Timesteps plan;
        final Tensor latents;
        int calls;

        NextLatentOracle(NoiseSchedule schedule, Timesteps plan, Tensor latents) {
            this.schedule = schedule;
            this.plan = plan;
            this.latents = latents;
        }

        @Override
        public Tensor apply(Tensor x, Tensor t) {
            int i = calls++;
            assertEquals(plan.get(i), Tensors.toFloats(t)[0], 0f, "timestep of evaluation " + i);
            double a = schedule.alphaCumprod(plan.get(i));
            double aPrev = schedule.alphaCumprod(i + 1 < plan.steps() ? plan.get(i + 1) : 0);
            // x_prev = sqrt(aPrev / a) x + (sqrt(1 - aPrev) - sqrt(aPrev / a) sqrt(1 - a)) eps
            double ratio = Math.sqrt(aPrev / a);
            return latents.select(0, i).sub(x, s(ratio)).div(s(Math.sqrt(1 - aPrev) - ratio * Math.sqrt(1 - a)));
        }
    }

    @Test
    void img2imgNoisesOneStepAboveWhereDenoisingStarts() {
        String folder = "sd1-tiny";
        String id = "seeded_img2img_ddim_64x64";
        NoiseSchedule schedule = Golden.checkpointSchedule(folder);
        Sampler ddim = Samplers.byName("ddim");
        Timesteps plan = (Timesteps) ddim.plan(schedule, Scheduler.DISCRETE, 10);
        int tEnc = (int) (0.6 * 10);
        int start = plan.steps() - tEnc;
        Timesteps rest = plan.from(start);
        assertArrayEquals(new int[] {501, 401, 301, 201, 101, 1}, rest.values());
        Tensor init = Golden.read(folder, id, "init_latent");
        Recorder rec = new Recorder();
        Tensor result;
        try (SeededNoise noise = new SeededNoise(31)) {
            Tensor n = noise.randn(1, 4, 8, 8);
            assertClose(Golden.read(folder, id, "noise"), n, 0.0, "img2img noise");
            Tensor z = plan.addNoise(schedule, start - 1, init, n);
            assertClose(Golden.read(folder, id, "z_enc"), z, Golden.tol(folder, id, "z_enc"), "z_enc at timestep 601");
            NextLatentOracle oracle = new NextLatentOracle(schedule, rest, Golden.read(folder, id, "latent_steps"));
            result = ddim.sample(new Denoiser(oracle, Prediction.EPS, schedule), rest, z, noise, rec);
            assertEquals(6, oracle.calls);
            assertNextDraw(noise, 31, 1 + 6, "img2img noise + one DDIM draw per step");
        }
        Golden.assertSteps(Golden.read(folder, id, "latent_steps"), rec.latents, 0, Golden.tol(folder, id, "latent_steps"), "latent");
        assertClose(Golden.read(folder, id, "final_latent"), result, Golden.tol(folder, id, "final_latent"), "final_latent");

        // diffusers noises at the first timestep it denoises
        String diffusers = "img2img_ddim_diffusers_timesteps";
        assertClose(Golden.read(folder, diffusers, "z_enc"),
                plan.addNoise(schedule, start, Golden.read(folder, diffusers, "init_latent"), Golden.read(folder, diffusers, "noise")),
                Golden.tol(folder, diffusers, "z_enc"), "z_enc at timestep 501");
    }

    @Test
    void maskedBlendingDrawsBeforeEachStep() {
        String folder = "sd1-tiny";
        String id = "seeded_inpaint_blend_ddim_64x64";
        NoiseSchedule schedule = Golden.checkpointSchedule(folder);
        Sampler ddim = Samplers.byName("ddim");
        Timesteps plan = (Timesteps) ddim.plan(schedule, Scheduler.DISCRETE, 10);
        Tensor init = Golden.read(folder, id, "init_latent");
        Tensor keep = Golden.read(folder, id, "latent_mask").neg().add(s(1));
        Tensor blendNoise = Golden.read(folder, id, "blend_noise");
        Tensor result;
        try (SeededNoise noise = new SeededNoise(77)) {
            Tensor xT = noise.randn(1, 4, 8, 8);
            assertClose(Golden.read(folder, id, "x_T"), xT, 0.0, "x_T");
            int[] blends = {0};
            StepListener blend = new StepListener() {
                @Override
                public Tensor beforeStep(int index, Tensor x) {
                    Tensor n = noise.randn(1, 4, 8, 8);
                    assertClose(blendNoise.select(0, index), n, 0.0, "blend noise of step " + index);
                    blends[0]++;
                    Tensor known = plan.addNoise(schedule, index, init, n);
                    return known.mul(keep).add(x.mul(keep.neg().add(s(1))));
                }
            };
            NextLatentOracle oracle = new NextLatentOracle(schedule, plan, Golden.read(folder, id, "latent_steps"));
            result = ddim.sample(new Denoiser(oracle, Prediction.EPS, schedule), plan, plan.initialLatent(xT), noise, blend);
            assertEquals(10, blends[0]);
        }
        assertClose(Golden.read(folder, id, "sampler_output"), result, Golden.tol(folder, id, "sampler_output"), "sampler_output");
    }

    /** The generator has made {@code draws} latent-shaped draws since {@code seed}. */
    static void assertNextDraw(SeededNoise noise, long seed, int draws, String what) {
        try (SeededNoise fresh = new SeededNoise(seed)) {
            for (int i = 0; i < draws; i++) {
                fresh.randn(1, 4, 8, 8);
            }
            assertClose(fresh.randn(1, 4, 8, 8), noise.randn(1, 4, 8, 8), 0.0, what);
        }
    }
}
