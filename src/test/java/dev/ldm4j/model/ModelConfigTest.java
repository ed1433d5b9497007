package dev.ldm4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.unet.UNetConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelConfigTest {
    @Test
    void readsSd1Yaml() {
        ModelConfig c = ModelConfig.fromYaml(Fixtures.path("sd1-tiny/config.yaml"));
        assertEquals(Architecture.SD1, c.architecture());
        assertFalse(c.vPrediction());
        assertEquals(0.18215, c.vae().scaleFactor());
        UNetConfig u = c.unet();
        assertEquals(32, u.modelChannels());
        assertArrayEquals(new int[] {1, 2, 2}, u.channelMult());
        assertArrayEquals(new int[] {1, 2}, u.attentionResolutions());
        assertEquals(2, u.numHeads());
        assertEquals(32, u.contextDim());
        assertFalse(u.useLinearInTransformer());
        assertEquals(32, c.vae().ch());
        assertEquals(32, c.textModelConfig().get("hidden_size"));
    }

    @Test
    void readsSd2Yaml() {
        ModelConfig c = ModelConfig.fromYaml(Fixtures.path("sd2-tiny/config.yaml"));
        assertEquals(Architecture.SD2, c.architecture());
        assertTrue(c.vPrediction());
        assertEquals("penultimate", c.textLayer());
        assertEquals(16, c.unet().numHeadChannels());
        assertTrue(c.unet().useLinearInTransformer());
    }

    @ParameterizedTest
    @ValueSource(strings = {"sd1-tiny", "sd2-tiny", "sd1-tiny-inpaint"})
    void detectionFromShapesAgreesWithYaml(String folder) {
        ModelConfig yaml = ModelConfig.fromYaml(Fixtures.path(folder + "/config.yaml"));
        try (SafetensorsFile f = Fixtures.open(folder + "/model.safetensors")) {
            ModelConfig d = Architecture.detectConfig(f);
            assertEquals(yaml.architecture(), d.architecture());
            assertEquals(yaml.textLayer(), d.textLayer());
            UNetConfig a = yaml.unet();
            UNetConfig b = d.unet();
            assertEquals(a.inChannels(), b.inChannels());
            assertEquals(a.outChannels(), b.outChannels());
            assertEquals(a.modelChannels(), b.modelChannels());
            assertArrayEquals(a.channelMult(), b.channelMult());
            assertArrayEquals(a.attentionResolutions(), b.attentionResolutions());
            assertEquals(a.numResBlocks(), b.numResBlocks());
            assertEquals(a.transformerDepth(), b.transformerDepth());
            assertEquals(a.contextDim(), b.contextDim());
            assertEquals(a.useLinearInTransformer(), b.useLinearInTransformer());
            // resolution only places attention levels, and neither VAE has any
            assertEquals(yaml.vae().toString().replaceAll("resolution=\\d+", ""),
                    d.vae().toString().replaceAll("resolution=\\d+", ""));
        }
    }

    @Test
    void badConfigsGiveClearErrors(@TempDir Path dir) throws IOException {
        Path notYaml = dir.resolve("a.yaml");
        Files.writeString(notYaml, "model: [unclosed");
        assertTrue(assertThrows(UnsupportedModelException.class, () -> ModelConfig.fromYaml(notYaml))
                .getMessage().contains("a.yaml"));
        Path other = dir.resolve("b.yaml");
        Files.writeString(other, "model:\n  target: sgm.models.diffusion.DiffusionEngine\n  params: {}\n");
        assertTrue(assertThrows(UnsupportedModelException.class, () -> ModelConfig.fromYaml(other))
                .getMessage().contains("not supported"));
        assertTrue(assertThrows(UnsupportedModelException.class,
                () -> ModelConfig.fromYaml(dir.resolve("missing.yaml"))).getMessage().contains("no such"));
    }

    @Test
    void inpaintingConfigsNeedTheirTargetKeyAndNineChannels(@TempDir Path dir) throws IOException {
        String inpaint = Files.readString(Fixtures.path("sd1-tiny-inpaint/config.yaml"));
        ModelConfig c = ModelConfig.fromYaml(Fixtures.path("sd1-tiny-inpaint/config.yaml"));
        assertTrue(c.inpainting());
        assertFalse(ModelConfig.fromYaml(Fixtures.path("sd1-tiny/config.yaml")).inpainting());

        Path crossattn = dir.resolve("crossattn.yaml");
        Files.writeString(crossattn, inpaint.replace("conditioning_key: hybrid", "conditioning_key: crossattn"));
        assertTrue(assertThrows(UnsupportedModelException.class, () -> ModelConfig.fromYaml(crossattn))
                .getMessage().contains("conditioning_key 'crossattn'"));
        Path fourChannels = dir.resolve("four.yaml");
        Files.writeString(fourChannels, inpaint.replace("in_channels: 9", "in_channels: 4"));
        assertTrue(assertThrows(UnsupportedModelException.class, () -> ModelConfig.fromYaml(fourChannels))
                .getMessage().contains("in_channels 4"));
        Path plainHybrid = dir.resolve("plain.yaml");
        Files.writeString(plainHybrid, inpaint.replace("LatentInpaintDiffusion", "LatentDiffusion"));
        assertTrue(assertThrows(UnsupportedModelException.class, () -> ModelConfig.fromYaml(plainHybrid))
                .getMessage().contains("conditioning_key 'hybrid'"));
    }

    @Test
    void recommendedImageSizeComesFromTheLdm4jSection(@TempDir Path dir) throws IOException {
        assertEquals(java.util.OptionalInt.empty(),
                ModelConfig.recommendedImageSize(Fixtures.path("sd1-tiny/config.yaml")), "CompVis configs have none");
        assertEquals(java.util.OptionalInt.empty(), ModelConfig.recommendedImageSize(null));
        Path yaml = dir.resolve("m.yaml");
        Files.writeString(yaml, Files.readString(Fixtures.path("sd1-tiny/config.yaml")) + "\nldm4j:\n  image_size: 64\n");
        assertEquals(java.util.OptionalInt.of(64), ModelConfig.recommendedImageSize(yaml));
        assertEquals(Architecture.SD1, ModelConfig.fromYaml(yaml).architecture(), "the section does not disturb the model");
        Files.writeString(yaml, "ldm4j:\n  image_size: -3\n");
        assertEquals(java.util.OptionalInt.empty(), ModelConfig.recommendedImageSize(yaml));
        assertEquals(java.util.OptionalInt.empty(), ModelConfig.recommendedImageSize(dir.resolve("missing.yaml")));
    }
}
