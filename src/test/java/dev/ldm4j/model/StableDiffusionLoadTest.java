package dev.ldm4j.model;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.io.SafetensorsWriter;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.vae.TaesdFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading options: a separate VAE file, TAESD decoding, and the errors of bad files. */
class StableDiffusionLoadTest {
    private static final String CASE = "sd1-tiny/cases/seeded_ddim_64x64.safetensors";

    private static StableDiffusion load(Path vae, Path taesd) {
        return StableDiffusion.load(new StableDiffusion.Options(Fixtures.path("sd1-tiny/model.safetensors"),
                Fixtures.path("sd1-tiny/config.yaml"), vae, taesd));
    }

    @Test
    void separateVaeFileWithBareKeysDecodesLikeTheCheckpointsOwn(@TempDir Path dir) {
        // a standalone VAE as A1111 ships them: the first_stage_model keys without their prefix
        Path vaeFile = dir.resolve("my.vae.safetensors");
        try (SafetensorsFile ckpt = Fixtures.open("sd1-tiny/model.safetensors")) {
            Map<String, Tensor> vae = new LinkedHashMap<>();
            for (String k : ckpt.keys()) {
                if (k.startsWith("first_stage_model.")) {
                    vae.put(k.substring("first_stage_model.".length()), Tensors.read(ckpt, k));
                }
            }
            SafetensorsWriter.writeTensors(vaeFile, vae);
        }
        StableDiffusion sd = load(vaeFile, null);
        try (SafetensorsFile cf = Fixtures.open(CASE); InferenceMode g = new InferenceMode()) {
            assertClose(Tensors.read(cf, "image"), sd.decode(Tensors.read(cf, "final_latent")),
                    Fixtures.tolerance("sd1-tiny", "seeded_ddim_64x64", "image"), "decode with --vae");
        }
    }

    /** A copy of the fixture checkpoint with {@code change} applied to its tensors. */
    private static Path editedCheckpoint(Path dir, java.util.function.Consumer<Map<String, Tensor>> change) {
        Path out = dir.resolve("edited.safetensors");
        try (SafetensorsFile ckpt = Fixtures.open("sd1-tiny/model.safetensors")) {
            Map<String, Tensor> all = new LinkedHashMap<>();
            for (String k : ckpt.keys()) {
                all.put(k, Tensors.read(ckpt, k));
            }
            change.accept(all);
            SafetensorsWriter.writeTensors(out, all);
        }
        return out;
    }

    @Test
    void theVaeEncoderIsCheckedAtLoadThoughReadOnFirstUse(@TempDir Path dir) {
        String key = "first_stage_model.encoder.conv_in.weight";
        Path missing = editedCheckpoint(dir, m -> m.remove(key));
        ModelFileException e = assertThrows(ModelFileException.class, () -> StableDiffusion.load(
                new StableDiffusion.Options(missing, Fixtures.path("sd1-tiny/config.yaml"), null, null)));
        assertTrue(e.getMessage().contains(key), e.getMessage());
        Path misShaped = editedCheckpoint(dir, m -> m.put(key, m.get(key).narrow(0, 0, 1).contiguous()));
        ModelFileException e2 = assertThrows(ModelFileException.class, () -> StableDiffusion.load(
                new StableDiffusion.Options(misShaped, Fixtures.path("sd1-tiny/config.yaml"), null, null)));
        assertTrue(e2.getMessage().contains(key), e2.getMessage());
    }

    @Test
    void taesdDecodesTheLatentWithTheTaesdDecoder() {
        Path taesd = Fixtures.path("taesd/taesd_decoder.safetensors");
        StableDiffusion sd = load(null, taesd);
        try (SafetensorsFile cf = Fixtures.open(CASE); InferenceMode g = new InferenceMode()) {
            Tensor z = Tensors.read(cf, "final_latent");
            Tensor expected = TaesdFiles.decoder(taesd).decode(z).clamp(
                    new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(0.0)),
                    new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(1.0)));
            Tensor img = sd.decode(z);
            assertEquals(64, img.size(2));
            assertClose(expected, img, 0.0, "taesd decode");
        }
    }

    @Test
    void aYamlOfTheSameNameBesideTheCheckpointIsItsConfig(@TempDir Path dir) throws IOException {
        // the tiny fixture's head count cannot be detected from shapes: loading it without a config fails
        Path ckpt = Files.copy(Fixtures.path("sd1-tiny/model.safetensors"), dir.resolve("tiny.safetensors"));
        assertThrows(ModelFileException.class, () -> StableDiffusion.load(StableDiffusion.Options.of(ckpt)));
        Files.copy(Fixtures.path("sd1-tiny/config.yaml"), dir.resolve("tiny.yaml"));
        StableDiffusion sd = StableDiffusion.load(StableDiffusion.Options.of(ckpt));
        assertEquals(2, sd.config().unet().numHeads());
    }

    @Test
    void badFilesNameTheFile(@TempDir Path dir) throws IOException {
        Path notVae = dir.resolve("text.safetensors");
        try (SafetensorsFile ckpt = Fixtures.open("sd1-tiny/model.safetensors")) {
            SafetensorsWriter.writeTensors(notVae, Map.of("foo", Tensors.read(ckpt, "alphas_cumprod")));
        }
        ModelFileException e = assertThrows(ModelFileException.class, () -> load(notVae, null));
        assertTrue(e.getMessage().contains(notVae.toString()), e.getMessage());
        Path garbage = dir.resolve("garbage.safetensors");
        Files.writeString(garbage, "{not a model}");
        ModelFileException e2 = assertThrows(ModelFileException.class,
                () -> StableDiffusion.load(StableDiffusion.Options.of(garbage)));
        assertTrue(e2.getMessage().contains(garbage.toString()), e2.getMessage());
        UnsupportedModelException e3 = assertThrows(UnsupportedModelException.class,
                () -> StableDiffusion.load(StableDiffusion.Options.of(Fixtures.path("taesd/taesd_decoder.safetensors"))));
        assertTrue(e3.getMessage().contains("not a Stable Diffusion checkpoint"), e3.getMessage());
    }
}
