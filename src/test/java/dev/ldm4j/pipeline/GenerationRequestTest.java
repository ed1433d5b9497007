package dev.ldm4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.io.BadRequestException;
import org.junit.jupiter.api.Test;

/** A request is checked whole when it is made, each problem a bad request that names it. */
class GenerationRequestTest {
    private static GenerationRequest request(String sampler, String scheduler, double eta, int steps) {
        return new GenerationRequest("a lake", "", 64, 64, steps, 7.5, sampler, scheduler, eta, 1, 1, 0);
    }

    @Test
    void everyFieldIsCheckedWhenTheRequestIsMade() {
        assertEquals("euler_a", request("Euler_A", "Karras", 0, 4).sampler(), "names are kept in sd.cpp's spelling");
        assertEquals("karras", request("Euler_A", "Karras", 0, 4).scheduler());
        BadRequestException sampler = assertThrows(BadRequestException.class, () -> request("uni_pc", "discrete", 0, 4));
        assertTrue(sampler.getMessage().contains("unknown sampler 'uni_pc'; valid: ddim,"), sampler.getMessage());
        BadRequestException scheduler = assertThrows(BadRequestException.class, () -> request("euler", "gits", 0, 4));
        assertTrue(scheduler.getMessage().contains("unknown scheduler 'gits'"), scheduler.getMessage());
        assertEquals("lcm", request("lcm", "Automatic", 0, 4).scheduler(), "a sampler's own scheduler");
        assertEquals("simple", request("ddim_trailing", null, 0.3, 4).scheduler());
        assertEquals("lcm", request("tcd", "", 0.3, 4).scheduler());
        assertThrows(BadRequestException.class, () -> request("tcd", null, 1.5, 4));
        BadRequestException eta = assertThrows(BadRequestException.class, () -> request("euler", "discrete", 0.5, 4));
        assertTrue(eta.getMessage().contains("ddim"), eta.getMessage());
        assertEquals(0.5, request("ddim", "discrete", 0.5, 4).eta());
        assertThrows(BadRequestException.class, () -> request("ddim", "discrete", 0, 0));
        assertThrows(BadRequestException.class, () -> GenerationRequest.of(null));
    }
}
