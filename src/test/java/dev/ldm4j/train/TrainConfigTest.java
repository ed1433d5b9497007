package dev.ldm4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.io.BadRequestException;
import org.junit.jupiter.api.Test;

class TrainConfigTest {

    @Test
    void warmupThenConstant() {
        TrainConfig c = TrainConfig.defaults().withLearningRate(1e-3).withWarmupSteps(4);
        double[] expected = {2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3};
        for (int step = 1; step <= expected.length; step++) {
            assertEquals(expected[step - 1], c.learningRateAt(step), 1e-15, "step " + step);
        }
    }

    @Test
    void cooldownFallsLinearlyToLrOverNAndStaysThere() {
        // 4 cooldown steps after step 6: 4/4, 3/4, 2/4, 1/4 of the peak, then 1/4 if the run goes on
        TrainConfig c = TrainConfig.defaults().withLearningRate(1e-3).withWarmupSteps(2).withCooldown(6, 10);
        double[] expected = {5e-4, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 7.5e-4, 5e-4, 2.5e-4, 2.5e-4, 2.5e-4};
        for (int step = 1; step <= expected.length; step++) {
            assertEquals(expected[step - 1], c.learningRateAt(step), 1e-15, "step " + step);
        }
    }

    @Test
    void aCooldownMustEndAfterItStarts() {
        assertThrows(BadRequestException.class, () -> TrainConfig.defaults().withCooldown(10, 10));
        assertThrows(BadRequestException.class, () -> TrainConfig.defaults().withCooldown(-1, 10));
    }

    @Test
    void aStateSavedBeforeCooldownsExistedReadsAsNoCooldown() throws Exception {
        ObjectMapper json = new ObjectMapper();
        String saved = json.writeValueAsString(TrainConfig.defaults().withCooldown(6, 10))
                .replaceAll(",\"decay(Start|End)\":\\d+", "");
        TrainConfig c = json.readValue(saved, TrainConfig.class);
        assertEquals(TrainConfig.defaults(), c, saved);
    }
}
