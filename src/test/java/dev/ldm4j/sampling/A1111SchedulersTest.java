package dev.ldm4j.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * sgm_uniform, simple, kl_optimal, ddim_uniform and align_your_steps against AUTOMATIC1111's own functions on
 * SD's schedule (scripts/reference/a1111_schedulers.py); beta against ComfyUI's and lcm against diffusers'
 * timesteps (scripts/reference/comfy_reference.py).
 */
class A1111SchedulersTest {
    static Stream<JsonNode> cases() throws IOException {
        return Stream.concat(read("a1111-schedulers.json", "cases"), read("comfy-reference.json", "schedules"));
    }

    private static Stream<JsonNode> read(String resource, String field) throws IOException {
        try (InputStream in = A1111SchedulersTest.class.getResourceAsStream(resource)) {
            return StreamSupport.stream(new ObjectMapper().readTree(in).get(field).spliterator(), false);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void sigmasMatchAutomatic1111(JsonNode c) {
        Scheduler scheduler = Scheduler.byName(c.get("scheduler").asText());
        int steps = c.get("steps").asInt();
        NoiseSchedule schedule = NoiseSchedule.linear(1000, 0.00085, 0.012);
        if (c.path("family").asText().equals("sdxl")) {
            schedule = schedule.withAlignYourSteps(AlignYourSteps.SDXL);
        }
        float[] mine = scheduler.sigmas(schedule, steps).values();
        JsonNode expected = c.get("sigmas");
        assertEquals(expected.size(), mine.length, "number of sigmas");
        for (int i = 0; i < mine.length; i++) {
            double e = expected.get(i).asDouble();
            assertEquals(e, mine[i], 2e-6 * Math.max(1, e), scheduler.cliName() + " " + steps + " steps, sigma " + i);
        }
    }
}
