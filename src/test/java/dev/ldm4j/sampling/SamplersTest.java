package dev.ldm4j.sampling;

import static dev.ldm4j.Fixtures.assertClose;
import static dev.ldm4j.nn.Ops.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.Golden.Recorder;
import java.util.Arrays;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** Properties every sampler must have where no golden run exists: names, random streams, partial runs. */
class SamplersTest {
    private static final NoiseSchedule SD = NoiseSchedule.stableDiffusion();

    /** A smooth stand-in for a UNet: eps = 0.1 x + 0.001 t. */
    private static final ModelFn TOY = (x, t) -> x.mul(s(0.1)).add(t.view(-1, 1, 1, 1), s(0.001));

    @Test
    void everyNameGivesItsSampler() {
        for (String name : Samplers.names()) {
            assertEquals(name, Samplers.byName(name).name());
        }
        assertEquals("dpm++2m", Samplers.byName(" DPM++2M ").name());
        BadRequestException e = assertThrows(BadRequestException.class, () -> Samplers.byName("uni_pc"));
        assertTrue(e.getMessage().contains("ddim, plms, ddpm, euler, euler_a, heun, dpm++2m"), e.getMessage());
    }

    @Test
    void everyKindMakesItsSamplerUnderItsNames() {
        for (SamplerKind k : SamplerKind.values()) {
            assertEquals(k.cliName(), k.create().name());
            assertEquals(k, SamplerKind.find(" " + k.cliName().toUpperCase(java.util.Locale.ROOT)).orElseThrow());
        }
        assertEquals(Arrays.stream(SamplerKind.values()).map(SamplerKind::cliName).toList(), Samplers.names());
        assertEquals("Euler a", SamplerKind.EULER_A.a1111Name());
        assertEquals("DPM++ 2M", SamplerKind.DPMPP_2M.a1111Name());
        assertTrue(SamplerKind.find("uni_pc").isEmpty());
        assertTrue(SamplerKind.find(null).isEmpty());
    }

    @Test
    void compVisSamplersNeedTheDiscreteScheduler() {
        for (String name : new String[] {"ddim", "plms", "ddpm"}) {
            BadRequestException e = assertThrows(BadRequestException.class,
                    () -> Samplers.byName(name).plan(SD, Scheduler.KARRAS, 10));
            assertTrue(e.getMessage().contains("discrete"), e.getMessage());
        }
        Plan sigmas = Samplers.byName("euler").plan(SD, Scheduler.DISCRETE, 10);
        Plan timesteps = Samplers.byName("ddim").plan(SD, Scheduler.DISCRETE, 10);
        Denoiser d = new Denoiser(TOY, Prediction.EPS, SD);
        try (SeededNoise noise = new SeededNoise(0)) {
            Tensor x = noise.randn(1, 4, 8, 8);
            assertThrows(IllegalArgumentException.class, () -> Samplers.byName("ddim").sample(d, sigmas, x, noise));
            assertThrows(IllegalArgumentException.class, () -> Samplers.byName("heun").sample(d, timesteps, x, noise));
        }
    }

    /** Random draws after x_T for 10 steps, as each reference sampler makes them (fixtures README). */
    @Test
    void drawsFollowTheReferenceStream() {
        Map<String, Integer> draws = Map.ofEntries(Map.entry("ddim", 10), Map.entry("plms", 11), Map.entry("ddpm", 9),
                Map.entry("euler", 10), Map.entry("euler_a", 9), Map.entry("heun", 10), Map.entry("dpm++2m", 0),
                Map.entry("lms", 0), Map.entry("dpm2", 10), Map.entry("dpm2_a", 9), Map.entry("dpm++2s_a", 9),
                Map.entry("dpm++2m_sde", 9), Map.entry("dpm++3m_sde", 9), Map.entry("ipndm", 0),
                Map.entry("ipndm_v", 0), Map.entry("lcm", 9), Map.entry("ddim_trailing", 0), Map.entry("tcd", 0),
                Map.entry("euler_cfg_pp", 0), Map.entry("euler_a_cfg_pp", 9));
        for (String name : Samplers.names()) {
            Sampler sampler = Samplers.byName(name);
            Plan plan = sampler.plan(SD, Scheduler.DISCRETE, 10);
            try (SeededNoise noise = new SeededNoise(5)) {
                Tensor xT = noise.randn(1, 4, 8, 8);
                sampler.sample(new Denoiser(TOY, Prediction.EPS, SD), plan, plan.initialLatent(xT), noise);
                DdimSamplerTest.assertNextDraw(noise, 5, 1 + draws.get(name), name + " draws");
            }
        }
    }

    @Test
    void anEmptyPlanReturnsTheInput() {
        for (String name : Samplers.names()) {
            Sampler sampler = Samplers.byName(name);
            Plan plan = sampler.plan(SD, Scheduler.DISCRETE, 10);
            Plan none = plan.from(plan.steps());
            assertEquals(0, none.steps());
            try (SeededNoise noise = new SeededNoise(5)) {
                Tensor x = noise.randn(1, 4, 8, 8);
                Recorder rec = new Recorder();
                Tensor out = sampler.sample(new Denoiser(TOY, Prediction.EPS, SD), none, x, noise, rec);
                assertClose(x, out, 0.0, name + " with no steps");
                assertTrue(rec.latents.isEmpty());
            }
        }
    }

    @Test
    void everyStepIsReportedAndTheInputSurvives() {
        for (String name : Samplers.names()) {
            Sampler sampler = Samplers.byName(name);
            Plan plan = sampler.plan(SD, Scheduler.DISCRETE, 7);
            try (SeededNoise noise = new SeededNoise(9)) {
                Tensor x = plan.initialLatent(noise.randn(2, 4, 8, 8));
                float[] before = Tensors.toFloats(x);
                Recorder rec = new Recorder();
                Tensor out;
                try (PointerScope outer = new PointerScope()) {
                    out = sampler.sample(new Denoiser(TOY, Prediction.EPS, SD), plan, x, noise, rec);
                    assertEquals(2, out.size(0));
                    assertTrue(Float.isFinite(Tensors.toFloats(out)[0]), name);
                }
                assertEquals(plan.steps(), rec.latents.size(), name + " callbacks");
                assertTrue(rec.counts.stream().allMatch(c -> c == plan.steps()));
                assertEquals(before.length, Tensors.toFloats(x).length);
                assertFalse(Arrays.equals(before, Tensors.toFloats(rec.latents.get(0).tensor())), name + " moved");
                assertTrue(Arrays.equals(before, Tensors.toFloats(x)), name + " left its input alone");
            }
        }
    }

    @Test
    void eulerAncestralAddsScaledNoiseAfterEachStepButTheLast() {
        // with eps = 0 the denoised latent is x itself, so only the ancestral noise moves x
        ModelFn zero = (x, t) -> x.mul(s(0));
        Sampler eulerA = Samplers.byName("euler_a");
        Sigmas plan = (Sigmas) eulerA.plan(SD, Scheduler.KARRAS, 5);
        try (SeededNoise noise = new SeededNoise(11); SeededNoise copy = new SeededNoise(11)) {
            Tensor x = noise.randn(1, 4, 8, 8);
            Tensor expected = copy.randn(1, 4, 8, 8);
            for (int i = 0; i < 4; i++) {
                double sigma = plan.get(i);
                double next = plan.get(i + 1);
                double up = Math.min(next, Math.sqrt(next * next * (sigma * sigma - next * next) / (sigma * sigma)));
                expected = expected.add(copy.randn(1, 4, 8, 8), s(up));
            }
            Tensor out = eulerA.sample(new Denoiser(zero, Prediction.EPS, SD), plan, x, noise);
            assertClose(expected, out, 1e-5, "x + sum of sigma_up z");
        }
    }

    @Test
    void eulerAncestralWithoutNoiseIsEuler() {
        Plan plan = Scheduler.KARRAS.sigmas(SD, 8);
        try (SeededNoise a = new SeededNoise(2); SeededNoise b = new SeededNoise(2)) {
            Tensor xa = plan.initialLatent(a.randn(1, 4, 8, 8));
            Tensor xb = plan.initialLatent(b.randn(1, 4, 8, 8));
            Tensor euler = Samplers.byName("euler").sample(new Denoiser(TOY, Prediction.EPS, SD), plan, xa, a);
            Tensor eta0 = new EulerAncestralSampler(0.0).sample(new Denoiser(TOY, Prediction.EPS, SD), plan, xb, b);
            assertClose(euler, eta0, 1e-5, "euler_a at eta 0");
        }
    }

    /**
     * ddpm's posterior steps equal DDIM steps at eta 1 (same draws at the same places); only the last step
     * differs: ddpm ends on the clean prediction without noise.
     */
    @Test
    void ddpmIsTheDdpmPosteriorOnTheDdimTimesteps() {
        Sampler ddpm = Samplers.byName("ddpm");
        Plan plan = ddpm.plan(SD, Scheduler.DISCRETE, 10);
        Recorder ddpmSteps = new Recorder();
        Recorder ddimSteps = new Recorder();
        for (Prediction p : Prediction.values()) {
            try (SeededNoise a = new SeededNoise(4); SeededNoise b = new SeededNoise(4)) {
                Tensor outDdpm = ddpm.sample(new Denoiser(TOY, p, SD), plan, a.randn(1, 4, 8, 8), a, ddpmSteps);
                Samplers.ddim(1.0).sample(new Denoiser(TOY, p, SD), plan, b.randn(1, 4, 8, 8), b, ddimSteps);
                for (int i = 0; i < 9; i++) {
                    assertClose(ddimSteps.latents.get(i).tensor(), ddpmSteps.latents.get(i).tensor(), 1e-4, p + " step " + i);
                }
                assertClose(ddpmSteps.denoised.get(9).tensor(), outDdpm, 0.0, p + " ddpm ends on x0");
            }
            ddpmSteps.latents.clear();
            ddpmSteps.denoised.clear();
            ddpmSteps.counts.clear();
            ddimSteps.latents.clear();
            ddimSteps.denoised.clear();
            ddimSteps.counts.clear();
        }
    }

    @Test
    void guidanceCombinesUncondFirst() {
        ModelFn doubled = (x, t) -> {
            assertEquals(4, x.size(0));
            assertEquals(4, t.size(0));
            // uncond half answers 1, cond half answers 3
            Tensor marks = Tensors.fromFloats(new float[] {1, 1, 3, 3}, 4, 1, 1, 1);
            return x.mul(s(0)).add(marks);
        };
        Tensor out = Guidance.cfg(doubled, 7.5).apply(Tensors.fromFloats(new float[8], 2, 1, 2, 2), Tensors.fromFloats(new float[] {5, 5}, 2));
        assertClose(Tensors.fromFloats(new float[] {16, 16, 16, 16, 16, 16, 16, 16}, 2, 1, 2, 2), out, 0.0, "1 + 7.5 * (3 - 1)");
    }

    @Test
    void predictionNames() {
        assertEquals(Prediction.EPS, Prediction.byName("eps"));
        assertEquals(Prediction.V, Prediction.byName("v"));
        assertThrows(BadRequestException.class, () -> Prediction.byName("x0"));
    }

    @org.junit.jupiter.api.Test
    void automatic1111NamesAreAcceptedWhereverASamplerIsNamed() {
        assertEquals(new Samplers.Choice(SamplerKind.DPMPP_2M, Scheduler.KARRAS), Samplers.choose("DPM++ 2M Karras", "discrete"));
        assertEquals(new Samplers.Choice(SamplerKind.DPMPP_2M, Scheduler.KARRAS), Samplers.choose("DPM++ 2M", "Karras"));
        assertEquals(new Samplers.Choice(SamplerKind.EULER_A, Scheduler.DISCRETE), Samplers.choose("Euler a", "Automatic"));
        assertEquals(new Samplers.Choice(SamplerKind.EULER, Scheduler.EXPONENTIAL), Samplers.choose("euler", "Exponential"));
        assertEquals(new Samplers.Choice(SamplerKind.DDIM, Scheduler.DISCRETE), Samplers.choose(" ddim ", null));
        org.junit.jupiter.api.Assertions.assertThrows(dev.ldm4j.io.BadRequestException.class,
                () -> Samplers.choose("DPM++ 2M Karras", "exponential"));
        org.junit.jupiter.api.Assertions.assertThrows(dev.ldm4j.io.BadRequestException.class,
                () -> Samplers.choose("Euler b", "discrete"));
        // a request keeps stable-diffusion.cpp's spelling, so its parameters text reads the same either way
        var r = new dev.ldm4j.pipeline.GenerationRequest("x", "", 64, 64, 4, 7, "DPM++ 2M Karras", "Automatic", 0, 1, 1, 0);
        assertEquals("dpm++2m", r.sampler());
        assertEquals("karras", r.scheduler());
    }
}
