package dev.ldm4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The parameters text names the scheduler a run used, so that reading it back reproduces the run. */
class ParametersTest {
    private static String text(String sampler, String scheduler) {
        return Parameters.a1111(new GenerationRequest("a cat", "", 64, 64, 4, 7.0, sampler, scheduler, 0.0, 1, 1, 0),
                "m");
    }

    @Test
    void automaticIsTheSamplersOwnScheduler() {
        assertTrue(text("lcm", null).contains("Sampler: LCM, Schedule type: LCM,"), text("lcm", null));
        assertTrue(text("euler", "Automatic").contains("Schedule type: Uniform,"), text("euler", "Automatic"));
        assertTrue(text("DPM++ 2M Karras", "Automatic").contains("Sampler: DPM++ 2M, Schedule type: Karras,"),
                text("DPM++ 2M Karras", "Automatic"));
        assertTrue(text("euler", "karras").contains("Schedule type: Karras,"), text("euler", "karras"));
    }
}
