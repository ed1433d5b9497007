package dev.ldm4j.sampling;

import static dev.ldm4j.nn.Ops.s;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.nn.Tensors;
import java.io.IOException;
import java.io.InputStream;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The samplers no shared fixture covers against their reference code run on a synthetic eps model: lms, dpm2,
 * dpm2_a, dpm++2s_a, dpm++2m_sde, dpm++3m_sde against k-diffusion's own functions
 * (scripts/reference/kdiffusion_samplers.py); lcm, ipndm, ipndm_v against ComfyUI's and ddim_trailing against
 * k-diffusion's Euler ancestral with its eta, euler_cfg_pp and euler_a_cfg_pp against ComfyUI's CFG++ Euler
 * with guidance between two synthetic models (scripts/reference/comfy_reference.py); tcd against diffusers'
 * TCDScheduler (scripts/reference/diffusers_tcd.py). Each case checks the same
 * x_T from the seed, the same sigmas, the same final latent, and the same number of draws from the seed's
 * stream (the generator's next draw after the run agrees).
 */
class MoreKDiffusionSamplersTest {
    static Stream<JsonNode> cases() throws IOException {
        return Stream.of(read("kdiffusion-samplers.json"), read("comfy-reference.json"), read("diffusers-tcd.json"))
                .flatMap(c -> c);
    }

    private static Stream<JsonNode> read(String resource) throws IOException {
        try (InputStream in = MoreKDiffusionSamplersTest.class.getResourceAsStream(resource)) {
            JsonNode root = new ObjectMapper().readTree(in);
            return java.util.stream.StreamSupport.stream(root.get("cases").spliterator(), false);
        }
    }

    private static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) array.get(i).asDouble();
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesKDiffusion(JsonNode c) {
        String name = c.get("sampler").asText();
        NoiseSchedule schedule = NoiseSchedule.linear(1000, 0.00085, 0.012);
        // the reference's model: eps = tanh(x_in) * (0.5 + t / 2000)
        ModelFn eps = (x, t) -> x.tanh().mul(t.div(s(2000)).add(s(0.5)).view(-1, 1, 1, 1));
        if (c.has("cfg_scale")) {
            // the CFG++ cases guide between it and uncond = tanh(0.7 x_in) * (0.3 + t / 3000), uncond first
            ModelFn cond = eps;
            ModelFn uncond = (x, t) -> x.mul(s(0.7)).tanh().mul(t.div(s(3000)).add(s(0.3)).view(-1, 1, 1, 1));
            eps = Guidance.cfg((x, t) -> {
                long half = x.size(0) / 2;
                return dev.ldm4j.nn.Ops.cat(0, uncond.apply(x.narrow(0, 0, half), t.narrow(0, 0, half)),
                        cond.apply(x.narrow(0, half, half), t.narrow(0, half, half)));
            }, c.get("cfg_scale").asDouble());
        }
        Denoiser denoiser = new Denoiser(eps, Prediction.EPS, schedule);
        Sampler sampler = Samplers.kind(name).create(c.path("eta").asDouble(0));
        Scheduler scheduler = Scheduler.byName(c.path("scheduler").asText("discrete"));
        try (PointerScope scope = new PointerScope(); SeededNoise noise = new SeededNoise(c.get("seed").asLong())) {
            Tensor xT = noise.randn(1, 4, 8, 8);
            assertArrayEquals(floats(c.get("x_T")), Tensors.toFloats(xT), 0f, "x_T");
            Plan plan = sampler.plan(schedule, scheduler, c.get("steps").asInt());
            assertArrayEquals(floats(c.get("sigmas")), ((Sigmas) plan).values(), 2e-6f, "sigmas");
            Tensor out = sampler.sample(denoiser, plan, plan.initialLatent(xT), noise, StepListener.NONE);
            float[] expected = floats(c.get("final"));
            float[] mine = Tensors.toFloats(out);
            double worst = 0;
            for (int i = 0; i < mine.length; i++) {
                worst = Math.max(worst, Math.abs(mine[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
            }
            assertTrue(worst < 2e-4, name + ": final latent off by " + worst + " (relative)");
            assertEquals(c.get("next_draw").asDouble(), Tensors.toFloats(noise.randn(1))[0], 0.0,
                    name + " made another number of draws than the reference");
        }
    }
}
