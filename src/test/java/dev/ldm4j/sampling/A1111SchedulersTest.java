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
 * sgm_uniform, simple and kl_optimal against AUTOMATIC1111's own functions on SD's schedule
 * (scripts/reference/a1111_schedulers.py).
 */
class A1111SchedulersTest {
    static Stream<JsonNode> cases() throws IOException {
        try (InputStream in = A1111SchedulersTest.class.getResourceAsStream("a1111-schedulers.json")) {
            return StreamSupport.stream(new ObjectMapper().readTree(in).get("cases").spliterator(), false);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void sigmasMatchAutomatic1111(JsonNode c) {
        Scheduler scheduler = Scheduler.byName(c.get("scheduler").asText());
        int steps = c.get("steps").asInt();
        float[] mine = scheduler.sigmas(NoiseSchedule.linear(1000, 0.00085, 0.012), steps).values();
        JsonNode expected = c.get("sigmas");
        assertEquals(expected.size(), mine.length, "number of sigmas");
        for (int i = 0; i < mine.length; i++) {
            double e = expected.get(i).asDouble();
            assertEquals(e, mine[i], 2e-6 * Math.max(1, e), scheduler.cliName() + " " + steps + " steps, sigma " + i);
        }
    }
}
