package dev.ldm4j.model;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
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
class ModelLoaderTest {
    private static final String CASE = "sd1-tiny/cases/seeded_ddim_64x64.safetensors";

    private static LatentDiffusionModel load(Path vae, Path taesd) {
        return ModelLoader.load(new ModelLoader.Options(Fixtures.path("sd1-tiny/model.safetensors"),
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
            Tensors.write(vaeFile, vae);
        }
        LatentDiffusionModel sd = load(vaeFile, null);
        try (SafetensorsFile cf = Fixtures.open(CASE); InferenceMode g = new InferenceMode()) {
            assertClose(Tensors.read(cf, "image"), sd.decode(Tensors.read(cf, "final_latent"), false),
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
            Tensors.write(out, all);
        }
        return out;
    }

    @Test
    void theVaeEncoderIsCheckedAtLoadThoughReadOnFirstUse(@TempDir Path dir) {
        String key = "first_stage_model.encoder.conv_in.weight";
        Path missing = editedCheckpoint(dir, m -> m.remove(key));
        ModelFileException e = assertThrows(ModelFileException.class, () -> ModelLoader.load(
                new ModelLoader.Options(missing, Fixtures.path("sd1-tiny/config.yaml"), null, null)));
        assertTrue(e.getMessage().contains(key), e.getMessage());
        Path misShaped = editedCheckpoint(dir, m -> m.put(key, m.get(key).narrow(0, 0, 1).contiguous()));
        ModelFileException e2 = assertThrows(ModelFileException.class, () -> ModelLoader.load(
                new ModelLoader.Options(misShaped, Fixtures.path("sd1-tiny/config.yaml"), null, null)));
        assertTrue(e2.getMessage().contains(key), e2.getMessage());
    }

    @Test
    void taesdDecodesTheLatentWithTheTaesdDecoder() {
        Path taesd = Fixtures.path("taesd/taesd_decoder.safetensors");
        LatentDiffusionModel sd = load(null, taesd);
        try (SafetensorsFile cf = Fixtures.open(CASE); InferenceMode g = new InferenceMode()) {
            Tensor z = Tensors.read(cf, "final_latent");
            Tensor expected = TaesdFiles.decoder(taesd).decode(z).clamp(
                    new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(0.0)),
                    new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(1.0)));
            Tensor img = sd.decode(z, false);
            assertEquals(64, img.size(2));
            assertClose(expected, img, 0.0, "taesd decode");
        }
    }

    @Test
    void aYamlOfTheSameNameBesideTheCheckpointIsItsConfig(@TempDir Path dir) throws IOException {
        // the tiny fixture's head count cannot be detected from shapes: loading it without a config fails
        Path ckpt = Files.copy(Fixtures.path("sd1-tiny/model.safetensors"), dir.resolve("tiny.safetensors"));
        assertThrows(ModelFileException.class, () -> ModelLoader.load(ModelLoader.Options.of(ckpt)));
        Files.copy(Fixtures.path("sd1-tiny/config.yaml"), dir.resolve("tiny.yaml"));
        LatentDiffusionModel sd = ModelLoader.load(ModelLoader.Options.of(ckpt));
        assertEquals(2, sd.config().unet().numHeads());
    }

    @Test
    void badFilesNameTheFile(@TempDir Path dir) throws IOException {
        Path notVae = dir.resolve("text.safetensors");
        try (SafetensorsFile ckpt = Fixtures.open("sd1-tiny/model.safetensors")) {
            Tensors.write(notVae, Map.of("foo", Tensors.read(ckpt, "alphas_cumprod")));
        }
        ModelFileException e = assertThrows(ModelFileException.class, () -> load(notVae, null));
        assertTrue(e.getMessage().contains(notVae.toString()), e.getMessage());
        Path garbage = dir.resolve("garbage.safetensors");
        Files.writeString(garbage, "{not a model}");
        ModelFileException e2 = assertThrows(ModelFileException.class,
                () -> ModelLoader.load(ModelLoader.Options.of(garbage)));
        assertTrue(e2.getMessage().contains(garbage.toString()), e2.getMessage());
        UnsupportedModelException e3 = assertThrows(UnsupportedModelException.class,
                () -> ModelLoader.load(ModelLoader.Options.of(Fixtures.path("taesd/taesd_decoder.safetensors"))));
        assertTrue(e3.getMessage().contains("not a Stable Diffusion checkpoint"), e3.getMessage());
    }

    @Test
    void closingFreesTheWeightsAtOnceAndAClosedModelRefusesWork() {
        // a patch that hands every parameter on unchanged but keeps its own handle to each
        Map<String, Tensor> seen = new LinkedHashMap<>();
        ParameterPatch recorder = ParameterPatch.mapping((key, t) -> {
            seen.put(key, Tensors.retain(new Tensor(t)));
            return t;
        });
        LatentDiffusionModel sd = ModelLoader.load(new ModelLoader.Options(Fixtures.path("sd1-tiny/model.safetensors"),
                Fixtures.path("sd1-tiny/config.yaml"), null, null).withPatch(recorder));
        Tensor unetIn = seen.get(Architecture.UNET + "input_blocks.0.0.weight");
        assertTrue(unetIn.storage().nbytes() > 0);
        assertTrue(seen.keySet().stream().anyMatch(k -> k.startsWith(Architecture.SD1.textPrefix())),
                "the patch sees the text encoder's parameters too");
        sd.close();
        // every tensor the networks hold (and the views of them the layers keep) lost its memory, not at some GC
        assertTrue(seen.values().stream().allMatch(t -> t.storage().nbytes() == 0),
                "a weight still holds memory after close");
        assertThrows(IllegalStateException.class, sd::unet);
        assertThrows(IllegalStateException.class, () -> sd.encodePrompts(java.util.List.of("an apple"), 0));
        sd.close(); // idempotent
    }

    @Test
    void aPatchChangesTheParametersTheNetworksAreBuiltFrom() {
        Path model = Fixtures.path("sd1-tiny/model.safetensors");
        Path config = Fixtures.path("sd1-tiny/config.yaml");
        // +1 on the bias of the UNet's last convolution: its output moves by exactly 1 everywhere
        ParameterPatch plusOne = ParameterPatch.mapping((key, t) -> key.equals(Architecture.UNET + "out.2.bias")
                ? Tensors.retain(t.add(Tensors.scalar(1f))) : t);
        try (LatentDiffusionModel plain = ModelLoader.load(new ModelLoader.Options(model, config, null, null));
             LatentDiffusionModel patched = ModelLoader.load(new ModelLoader.Options(model, config, null, null)
                     .withPatch(plusOne));
             InferenceMode g = new InferenceMode()) {
            Tensor x = org.bytedeco.pytorch.global.torch.randn(1, 4, 8, 8);
            Tensor t = Tensors.fromFloats(new float[] {500f}, 1);
            dev.ldm4j.unet.Conditioning c = dev.ldm4j.unet.Conditioning.crossAttn(
                    plain.encodePrompts(java.util.List.of("an apple"), 0));
            Tensor diff = patched.unet().forward(x, t, c).sub(plain.unet().forward(x, t, c));
            assertClose(org.bytedeco.pytorch.global.torch.ones_like(diff), diff, 1e-5, "patched minus plain");
        }
    }
}
