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
            assertArrayEquals(a.transformerDepth(), b.transformerDepth());
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
        Files.writeString(other, "model:\n  target: ldm.models.autoencoder.AutoencoderKL\n  params: {}\n");
        assertTrue(assertThrows(UnsupportedModelException.class, () -> ModelConfig.fromYaml(other))
                .getMessage().contains("not supported"));
        // an sgm config (SDXL) without its sections: the file and the missing part are named
        Path sgm = dir.resolve("c.yaml");
        Files.writeString(sgm, "model:\n  target: sgm.models.diffusion.DiffusionEngine\n  params: {}\n");
        String message = assertThrows(UnsupportedModelException.class, () -> ModelConfig.fromYaml(sgm)).getMessage();
        assertTrue(message.contains("c.yaml") && message.contains("network_config"), message);
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

    @Test
    void transformerDepthPerLevelIsReadFromYamlAndFromShapes(@TempDir Path dir) throws IOException {
        // SDXL's YAML lists one depth per level; sd1-tiny's levels are [1, 2, 2] with attention at the first two
        String yaml = Files.readString(Fixtures.path("sd1-tiny/config.yaml"))
                .replace("transformer_depth: 1", "transformer_depth: [1, 2, 1]");
        Path cfg = dir.resolve("deep.yaml");
        Files.writeString(cfg, yaml);
        ModelConfig c = ModelConfig.fromYaml(cfg);
        assertArrayEquals(new int[] {1, 2, 1}, c.unet().transformerDepth());
        Path ckpt = dir.resolve("deep.safetensors");
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            dev.ldm4j.nn.RandomSource random = new dev.ldm4j.nn.RandomSource(0,
                    org.bytedeco.pytorch.global.torch.ScalarType.Float);
            c.architecture().assemble(random, c, null);
            assertTrue(random.taken().containsKey(Architecture.UNET + "input_blocks.4.1.transformer_blocks.1.attn2.to_k.weight"));
            assertFalse(random.taken().containsKey(Architecture.UNET + "input_blocks.1.1.transformer_blocks.1.attn2.to_k.weight"));
            dev.ldm4j.nn.Tensors.write(ckpt, random.taken());
        }
        try (SafetensorsFile f = SafetensorsFile.open(ckpt)) {
            // the middle block follows the last level: 1 block
            assertArrayEquals(new int[] {1, 2, 1}, Architecture.detectConfig(f).unet().transformerDepth());
        }
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> ModelConfig.fromYaml(write(dir, yaml.replace("[1, 2, 1]", "[1, 2]"))));
        assertTrue(e.getMessage().contains("transformer_depth"), e.getMessage());
    }

    private static Path write(Path dir, String text) throws IOException {
        Path p = dir.resolve("other.yaml");
        Files.writeString(p, text);
        return p;
    }
}
