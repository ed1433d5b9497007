package dev.ldm4j.server;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.io.BadRequestException;
import org.junit.jupiter.api.Test;

/** serve's --max-size, --max-steps and --max-batch: over them a 422 names the field and the flag. */
class RequestLimitsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final RequestLimits LIMITS = new RequestLimits(1024, 50, 4);

    private static String refused(String body) throws Exception {
        return assertThrows(BadRequestException.class, () -> LIMITS.check(new Fields(JSON.readTree(body))))
                .getMessage();
    }

    @Test
    void overTheLimitsIsRefusedWithTheFieldNamed() throws Exception {
        assertTrue(refused("{\"width\": 1032}").contains("'width'"));
        assertTrue(refused("{\"height\": 4096}").contains("--max-size"));
        assertTrue(refused("{\"steps\": 51}").contains("'steps'"));
        assertTrue(refused("{\"batch_size\": 2, \"n_iter\": 3}").contains("--max-batch"));
        assertTrue(refused("{\"width\": 768, \"height\": 512, \"enable_hr\": true, \"hr_scale\": 1.5}")
                .contains("'hr_scale'"));
        assertTrue(refused("{\"enable_hr\": true, \"hr_resize_x\": 2048}").contains("2048"));
        assertTrue(refused("{\"enable_hr\": true, \"hr_second_pass_steps\": 60}").contains("hr_second_pass_steps"));
    }

    @Test
    void withinTheLimitsPasses() throws Exception {
        LIMITS.check(new Fields(JSON.readTree("{\"width\": 512, \"height\": 512, \"steps\": 50, \"batch_size\": 2,"
                + " \"n_iter\": 2, \"enable_hr\": true, \"hr_scale\": 2}")));
        LIMITS.check(new Fields(JSON.readTree("{\"width\": 768, \"enable_hr\": false, \"hr_scale\": 4}")));
        LIMITS.check(new Fields(JSON.readTree("{}")));
    }
}
