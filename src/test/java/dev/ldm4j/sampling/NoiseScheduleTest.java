package dev.ldm4j.sampling;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.nn.Tensors;
import org.junit.jupiter.api.Test;

class NoiseScheduleTest {
    private static final String SD1 = "sd1-tiny";

    @Test
    void linearScheduleMatchesCompVis() {
        NoiseSchedule s = NoiseSchedule.stableDiffusion();
        assertEquals(1000, s.size());
        assertClose(Golden.read(SD1, "schedule", "betas"), Tensors.fromFloats(s.betas(), 1000),
                Golden.tol(SD1, "schedule", "betas"), "betas");
        assertClose(Golden.read(SD1, "schedule", "alphas_cumprod"), Tensors.fromFloats(s.alphasCumprod(), 1000),
                Golden.tol(SD1, "schedule", "alphas_cumprod"), "alphas_cumprod");
    }

    @Test
    void checkpointBufferGivesTheSameSchedule() {
        NoiseSchedule fromCheckpoint = Golden.checkpointSchedule(SD1);
        assertClose(Golden.read(SD1, "schedule", "alphas_cumprod"), Tensors.fromFloats(fromCheckpoint.alphasCumprod(), 1000),
                Golden.tol(SD1, "schedule", "alphas_cumprod"), "alphas_cumprod from checkpoint");
        assertClose(Golden.read(SD1, "schedule", "betas"), Tensors.fromFloats(fromCheckpoint.betas(), 1000),
                1e-5, "betas derived from alphas_cumprod");
    }

    @Test
    void ddimScheduleMatchesCompVisMakeSchedule() {
        NoiseSchedule s = NoiseSchedule.stableDiffusion();
        Timesteps plan = Timesteps.uniform(1000, 10);
        int n = plan.steps();
        // the fixture lists the DDIM arrays ascending; the plan walks them descending
        float[] alphas = new float[n];
        float[] alphasPrev = new float[n];
        float[] sqrtOneMinus = new float[n];
        float[] sigmas0 = new float[n];
        float[] sigmas1 = new float[n];
        long[] timesteps = new long[n];
        for (int i = 0; i < n; i++) {
            int asc = n - 1 - i;
            timesteps[asc] = plan.get(i);
            alphas[asc] = s.alphaCumprod(plan.get(i));
            alphasPrev[asc] = TimestepSampler.alphaPrev(s, plan, i);
            sqrtOneMinus[asc] = (float) Math.sqrt(1f - alphas[asc]);
            sigmas0[asc] = DdimSampler.sigma(0.0, alphas[asc], alphasPrev[asc]);
            sigmas1[asc] = DdimSampler.sigma(1.0, alphas[asc], alphasPrev[asc]);
        }
        assertArrayEquals(Tensors.toLongs(Golden.read(SD1, "schedule", "ddim_timesteps")), timesteps, "ddim_timesteps");
        check("ddim_alphas", alphas);
        check("ddim_alphas_prev", alphasPrev);
        check("ddim_sqrt_one_minus_alphas", sqrtOneMinus);
        check("ddim_sigmas_eta0", sigmas0);
        check("ddim_sigmas_eta1", sigmas1);
    }

    private static void check(String name, float[] actual) {
        assertClose(Golden.read(SD1, "schedule", name), Tensors.fromFloats(actual, actual.length),
                Golden.tol(SD1, "schedule", name), name);
    }

    @Test
    void sigmaTableEnds() {
        NoiseSchedule s = NoiseSchedule.stableDiffusion();
        float[] karras = Golden.floats(SD1, "kdiff_euler", "sigmas");
        // get_sigmas_karras starts exactly at sigma_max and ends at sigma_min before the appended 0
        assertEquals(karras[0], s.sigmaMax(), 1e-5);
        assertEquals(karras[9], s.sigmaMin(), 1e-6);
        assertEquals(s.sigma(0), s.sigmaMin());
        assertEquals(s.sigma(999), s.sigmaMax());
    }

    @Test
    void timestepOfSigmaMatchesCompVisDenoiser() {
        for (String[] c : new String[][] {{SD1, "kdiff_euler"}, {"sd2-tiny", "kdiff_euler_v"}}) {
            NoiseSchedule s = Golden.checkpointSchedule(c[0]);
            float[] sigmas = Golden.floats(c[0], c[1], "sigmas");
            float[] t = new float[10];
            for (int i = 0; i < 10; i++) {
                t[i] = s.timestepOf(sigmas[i]);
            }
            assertClose(Golden.read(c[0], c[1], "t_of_sigma"), Tensors.fromFloats(t, 10),
                    Golden.tol(c[0], c[1], "t_of_sigma"), c[1] + " t_of_sigma");
        }
    }

    @Test
    void sigmaAndTimestepAreInverse() {
        NoiseSchedule s = NoiseSchedule.stableDiffusion();
        for (int t = 0; t < 1000; t += 37) {
            // exp(log(sigma)) in float32, as k-diffusion's t_to_sigma: within an ulp or two
            assertEquals(s.sigma(t), s.sigmaAt(t), 1e-6f * s.sigma(t), "integer t " + t);
            assertEquals(t, s.timestepOf(s.sigma(t)), 1e-3, "t of table sigma " + t);
        }
        for (float t : new float[] {0.25f, 17.5f, 500.125f, 998.75f}) {
            assertEquals(t, s.timestepOf(s.sigmaAt(t)), 2e-3, "round trip " + t);
        }
        // beyond the table, t is clamped
        assertEquals(0f, s.timestepOf(s.sigmaMin() / 2), 0f);
        assertEquals(999f, s.timestepOf(s.sigmaMax() * 2), 0f);
        assertThrows(IllegalArgumentException.class, () -> s.sigmaAt(999.5f));
    }

    @Test
    void rejectsInvalidBuffers() {
        assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.fromAlphasCumprod(new float[] {0.9f}));
        assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.fromAlphasCumprod(new float[] {0.5f, 0.9f}));
        assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.fromAlphasCumprod(new float[] {0.9f, 0f}));
        assertTrue(NoiseSchedule.fromAlphasCumprod(new float[] {0.9f, 0.5f}).sigmaMax() > 0);
    }
}
