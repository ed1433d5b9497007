package dev.ldm4j.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.SafetensorsFile;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VaeConfigTest {
    @Test
    void readsTheSd1TinyYaml() {
        VaeConfig c = AutoencoderKLTest.configOf("sd1-tiny");
        assertEquals(new VaeConfig(32, new int[] {1, 2, 2, 2}, 1, 4, 4, 3, 3, new int[0], 64, 0.18215), c);
        assertEquals(8, c.downscaleFactor());
    }

    @Test
    void theUpscalerVaeIsFactorFour() {
        VaeConfig c = AutoencoderKLTest.configOf("sd-x4-upscaler-tiny");
        assertArrayEquals(new int[] {1, 2, 4}, c.chMult());
        assertEquals(4, c.downscaleFactor());
        assertEquals(0.08333, c.scaleFactor());
    }

    @Test
    void sdDefault() {
        VaeConfig c = VaeConfig.sd();
        assertEquals(128, c.ch());
        assertArrayEquals(new int[] {1, 2, 4, 4}, c.chMult());
        assertEquals(2, c.numResBlocks());
        assertEquals(4, c.zChannels());
        assertEquals(4, c.embedDim());
        assertEquals(0, c.attnResolutions().length);
        assertEquals(8, c.downscaleFactor());
        assertEquals(0.18215, c.scaleFactor());
    }

    @Test
    void ddconfigDefaultsAndErrors() {
        Map<String, Object> dd = new HashMap<>(Map.of("ch", 128, "ch_mult", List.of(1, 2, 4, 4),
                "num_res_blocks", 2, "z_channels", 4, "double_z", true));
        VaeConfig c = VaeConfig.fromDdconfig(dd, 4, 0.18215);
        assertEquals(VaeConfig.sd(), c);
        dd.remove("z_channels");
        assertThrows(IllegalArgumentException.class, () -> VaeConfig.fromDdconfig(dd, 4, 0.18215));
        dd.put("z_channels", 4);
        dd.put("double_z", false);
        assertThrows(IllegalArgumentException.class, () -> VaeConfig.fromDdconfig(dd, 4, 0.18215));
    }

    @Test
    void detectsTheArchitectureFromShapes() {
        VaeConfig yaml = AutoencoderKLTest.configOf("sd-x4-upscaler-tiny");
        try (SafetensorsFile f = Fixtures.open("sd-x4-upscaler-tiny/model.safetensors")) {
            VaeConfig detected = VaeConfig.detect(f, "first_stage_model.", yaml.scaleFactor());
            assertEquals(yaml, new VaeConfig(detected.ch(), detected.chMult(), detected.numResBlocks(),
                    detected.zChannels(), detected.embedDim(), detected.inChannels(), detected.outCh(),
                    detected.attnResolutions(), yaml.resolution(), detected.scaleFactor()));
        }
    }
}
