package dev.ldm4j.sampling;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.nn.Tensors;
import org.junit.jupiter.api.Test;

class SchedulerTest {
    @Test
    void karrasMatchesKDiffusion() {
        for (String[] c : new String[][] {{"sd1-tiny", "kdiff_euler"}, {"sd1-tiny", "kdiff_heun"},
                {"sd1-tiny", "kdiff_dpmpp_2m"}, {"sd2-tiny", "kdiff_euler_v"}}) {
            NoiseSchedule s = Golden.checkpointSchedule(c[0]);
            Sigmas sigmas = Scheduler.byName("karras").sigmas(s, 10);
            assertClose(Golden.read(c[0], c[1], "sigmas"), Tensors.fromFloats(sigmas.values(), 11),
                    Golden.tol(c[0], c[1], "sigmas"), c[1] + " sigmas");
        }
    }

    @Test
    void discreteSigmasFollowTheTable() {
        NoiseSchedule s = NoiseSchedule.stableDiffusion();
        float[] v = Scheduler.DISCRETE.sigmas(s, 10).values();
        assertEquals(11, v.length);
        // values go through exp(log(sigma)) in float32 like k-diffusion's t_to_sigma
        assertEquals(s.sigmaMax(), v[0], 1e-6f * s.sigmaMax());
        assertEquals(s.sigmaMin(), v[9], 1e-6f * s.sigmaMin());
        assertEquals(0f, v[10], 0f);
        assertDecreasing(v);
        // t = 999 * (1 - i / 9): i = 3 is t = 666 exactly
        assertEquals(s.sigma(666), v[3], 1e-6f * s.sigma(666));
        // with one step per table entry the schedule is the table itself, reversed
        float[] all = Scheduler.DISCRETE.sigmas(s, 1000).values();
        for (int i = 0; i < 1000; i++) {
            assertEquals(s.sigma(999 - i), all[i], 1e-6f * all[i], "entry " + i);
        }
    }

    @Test
    void allSchedulersDescendToZero() {
        NoiseSchedule s = NoiseSchedule.stableDiffusion();
        for (Scheduler sch : Scheduler.values()) {
            for (int steps : new int[] {1, 2, 7, 30}) {
                float[] v = sch.sigmas(s, steps).values();
                // ddim_uniform takes every (1000 // steps)-th entry and beta drops repeated timesteps
                boolean exactCount = sch != Scheduler.DDIM_UNIFORM && sch != Scheduler.BETA;
                if (exactCount) {
                    assertEquals(steps + 1, v.length, sch + " " + steps);
                } else {
                    assertTrue(Math.abs(v.length - 1 - steps) <= steps / 10 + 1, sch + " " + steps + ": " + v.length);
                }
                // ddim_uniform starts below the top of the table; align_your_steps at its own 14.615
                if (sch != Scheduler.DDIM_UNIFORM && !(sch == Scheduler.ALIGN_YOUR_STEPS && steps == 1)) {
                    assertEquals(s.sigmaMax(), v[0], 1e-3f, sch + " starts at sigma_max");
                }
                // sgm_uniform and simple stop short of sigma_min by design; kl_optimal ends there, without the 0
                boolean spansTheTable = sch == Scheduler.DISCRETE || sch == Scheduler.KARRAS
                        || sch == Scheduler.EXPONENTIAL;
                if (steps > 1 && spansTheTable) {
                    assertEquals(s.sigmaMin(), v[steps - 1], 1e-5f, sch + " ends at sigma_min");
                }
                assertEquals(sch == Scheduler.KL_OPTIMAL ? s.sigmaMin() : 0f, v[v.length - 1], 1e-6f);
                assertDecreasing(v);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Scheduler.KARRAS.sigmas(s, 0));
        assertThrows(BadRequestException.class, () -> Scheduler.LCM.sigmas(s, 51));
    }

    private static void assertDecreasing(float[] v) {
        for (int i = 1; i < v.length; i++) {
            assertTrue(v[i] < v[i - 1], "decreasing at " + i + ": " + v[i - 1] + " -> " + v[i]);
        }
    }

    @Test
    void ddimTimestepsAreCompVisUniform() {
        assertArrayEquals(new int[] {901, 801, 701, 601, 501, 401, 301, 201, 101, 1}, Timesteps.uniform(1000, 10).values());
        assertArrayEquals(new int[] {876, 751, 626, 501, 376, 251, 126, 1}, Timesteps.uniform(1000, 8).values());
        // 1000 // 30 = 33 gives 31 timesteps, as CompVis does
        Timesteps t30 = Timesteps.uniform(1000, 30);
        assertEquals(31, t30.steps());
        assertEquals(991, t30.get(0));
        // CompVis would index timestep 1000 here; it is left out
        assertArrayEquals(new int[] {667, 334, 1}, Timesteps.uniform(1000, 3).values());
        assertArrayEquals(new int[] {1}, Timesteps.uniform(1000, 1).values());
        assertThrows(BadRequestException.class, () -> Timesteps.uniform(1000, 0));
        assertThrows(BadRequestException.class, () -> Timesteps.uniform(1000, 1001));
        assertArrayEquals(new int[] {501, 401, 301, 201, 101, 1}, Timesteps.uniform(1000, 10).from(4).values());
    }

    @Test
    void namesAreTheCliSpellings() {
        assertEquals(Scheduler.DISCRETE, Scheduler.byName("discrete"));
        assertEquals(Scheduler.KARRAS, Scheduler.byName("Karras"));
        assertEquals(Scheduler.EXPONENTIAL, Scheduler.byName("exponential"));
        assertEquals(Scheduler.ALIGN_YOUR_STEPS, Scheduler.byName("ays"));
        assertEquals(Scheduler.ALIGN_YOUR_STEPS, Scheduler.byName("Align Your Steps"));
        assertEquals(Scheduler.DDIM_UNIFORM, Scheduler.byName("DDIM"));
        BadRequestException e = assertThrows(BadRequestException.class, () -> Scheduler.byName("polyexponential"));
        assertTrue(e.getMessage().contains("discrete, karras, exponential, sgm_uniform, simple, kl_optimal, "
                + "ddim_uniform, beta, align_your_steps, lcm"), e.getMessage());
    }
}
