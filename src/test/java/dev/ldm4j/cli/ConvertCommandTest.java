package dev.ldm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.io.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ldm4j convert}, and PyTorch checkpoints given to {@code generate} directly. */
@Tag("golden")
class ConvertCommandTest {
    private static final String CASE = "seeded_ddim_64x64";

    @Test
    void convertsTheZipCheckpointToTheSameTensors(@TempDir Path dir) {
        Path out = dir.resolve("out.safetensors");
        CliTest.Run r = CliTest.cli("convert", Fixtures.path("ckpt/sd1-tiny.ckpt").toString(), out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("wrote 723 tensors"), r.err());
        try (SafetensorsFile ref = Fixtures.open("sd1-tiny/model.safetensors"); SafetensorsFile got = SafetensorsFile.open(out)) {
            assertEquals(List.copyOf(ref.keys()).stream().sorted().toList(), got.keys().stream().sorted().toList());
            for (String k : ref.keys()) {
                assertEquals(ref.info(k).dtype(), got.info(k).dtype(), k);
                assertArrayEquals(ref.info(k).shape(), got.info(k).shape(), k);
                assertEquals(ref.bytes(k), got.bytes(k), k);
            }
        }
    }

    @Test
    void convertsTheLegacyCheckpoint(@TempDir Path dir) {
        Path out = dir.resolve("half.safetensors");
        CliTest.Run r = CliTest.cli("convert", Fixtures.path("ckpt/sd1-tiny-fp16-legacy.ckpt").toString(), out.toString());
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile in = Fixtures.open("ckpt/sd1-tiny-fp16-legacy.ckpt"); SafetensorsFile got = SafetensorsFile.open(out)) {
            assertEquals(List.copyOf(in.keys()), List.copyOf(got.keys()));
            for (String k : in.keys()) {
                assertEquals(in.bytes(k), got.bytes(k), k);
            }
        }
    }

    @Test
    void refusedFilesExitTwoWithOneLineAndNoOutput(@TempDir Path dir) throws IOException {
        for (String name : List.of("evil-os-system.ckpt", "evil-legacy-eval.pt", "evil-zip-slip.ckpt", "truncated.ckpt")) {
            Path in = Fixtures.path("ckpt/" + name);
            Path out = dir.resolve(name + ".safetensors");
            CliTest.Run r = CliTest.cli("convert", in.toString(), out.toString());
            assertEquals(2, r.code(), name + ": " + r.err());
            assertTrue(r.err().startsWith("ldm4j: error: " + in), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertFalse(Files.exists(out), name + ": an output file was left");
        }
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(), left.toList(), "temporary files were left");
        }
        assertFalse(Files.exists(Path.of("ldm4j-pickle-was-executed")), "a pickle was executed");
        assertFalse(Files.exists(Path.of("outside.txt")), "a ZIP entry was extracted");
    }

    @Test
    void badArgumentsExitTwo(@TempDir Path dir) throws IOException {
        CliTest.Run missing = CliTest.cli("convert", dir.resolve("nope.ckpt").toString(), dir.resolve("o.safetensors").toString());
        assertEquals(2, missing.code(), missing.err());
        assertTrue(missing.err().contains("no such file"), missing.err());
        Path copy = Files.copy(Fixtures.path("ckpt/sd1-tiny-vae-bare.pt"), dir.resolve("vae.pt"));
        CliTest.Run same = CliTest.cli("convert", copy.toString(), copy.toString());
        assertEquals(2, same.code(), same.err());
        assertTrue(same.err().contains("is the input file"), same.err());
        CliTest.Run noOut = CliTest.cli("convert", copy.toString());
        assertEquals(2, noOut.code(), noOut.err());
    }

    /** The seeded case from the .ckpt: the pixels of the safetensors run, and its golden PNG within its levels. */
    @Test
    void generateFromTheCheckpointReproducesTheSeededCase(@TempDir Path dir) {
        Path fromSafetensors = dir.resolve("st.png");
        Path fromCkpt = dir.resolve("ckpt.png");
        SeededCasesCliTest.run(SeededCasesCliTest.args("sd1-tiny", CASE, fromSafetensors));
        SeededCasesCliTest.run(withModel(SeededCasesCliTest.args("sd1-tiny", CASE, fromCkpt),
                Fixtures.path("ckpt/sd1-tiny.ckpt")));
        RgbImage ckpt = Images.readRgb(fromCkpt);
        assertArrayEquals(Images.readRgb(fromSafetensors).pixels(), ckpt.pixels());
        RgbImage golden = Images.readRgb(Fixtures.path("sd1-tiny/cases/" + CASE + "_0.png"));
        int levels = Fixtures.caseOf("sd1-tiny", CASE).path("tolerance").path("png_max_abs_levels").asInt();
        int off = SeededCasesCliTest.levelsOff(ckpt, golden);
        assertTrue(off <= levels, off + " levels off the golden PNG (allowed " + levels + ")");
    }

    /** A bare VAE state dict in a .pt file given as --vae: the same image as the checkpoint's own VAE. */
    @Test
    void bareVaePtFileAsVae(@TempDir Path dir) {
        Path own = dir.resolve("own.png");
        Path separate = dir.resolve("separate.png");
        SeededCasesCliTest.run(SeededCasesCliTest.args("sd1-tiny", CASE, own));
        List<String> args = new ArrayList<>(SeededCasesCliTest.args("sd1-tiny", CASE, separate));
        args.addAll(List.of("--vae", Fixtures.path("ckpt/sd1-tiny-vae-bare.pt").toString()));
        SeededCasesCliTest.run(args);
        assertArrayEquals(Images.readRgb(own).pixels(), Images.readRgb(separate).pixels());
    }

    /**
     * sd1-tiny as a diffusers folder (convert), its UNet keys named as diffusers' own conversion script names
     * them; generating from the folder gives the single file's pixels; converting the folder back gives the same
     * tensors, byte for byte.
     */
    @Test
    void aDiffusersFolderRoundTrips(@TempDir Path dir) throws IOException {
        Path folder = dir.resolve("sd1-tiny-diffusers");
        CliTest.Run made = CliTest.cli("convert", Fixtures.path("sd1-tiny/model.safetensors").toString(), folder.toString(),
                "--config", Fixtures.path("sd1-tiny/config.yaml").toString());
        assertEquals(0, made.code(), made.err());
        for (String f : List.of("model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
                "vae/config.json", "vae/diffusion_pytorch_model.safetensors", "text_encoder/config.json",
                "text_encoder/model.safetensors", "scheduler/scheduler_config.json")) {
            assertTrue(Files.isRegularFile(folder.resolve(f)), f);
        }
        com.fasterxml.jackson.databind.JsonNode table;
        try (java.io.InputStream in = dev.ldm4j.model.ModelConfig.class.getResourceAsStream("diffusers-unet-keys.json")) {
            table = new com.fasterxml.jackson.databind.ObjectMapper().readTree(in).get("compvis_to_diffusers");
        }
        try (SafetensorsFile unet = SafetensorsFile.open(folder.resolve("unet/diffusion_pytorch_model.safetensors"))) {
            List<String> expected = new ArrayList<>();
            table.elements().forEachRemaining(n -> expected.add(n.asText()));
            assertEquals(expected.stream().sorted().toList(), unet.keys().stream().sorted().toList());
        }

        CliTest.Run info = CliTest.cli("info", "-m", folder.toString());
        assertEquals(0, info.code(), info.err());
        Path single = dir.resolve("single.png");
        Path fromFolder = dir.resolve("folder.png");
        SeededCasesCliTest.run(SeededCasesCliTest.args("sd1-tiny", CASE, single));
        List<String> args = withModel(SeededCasesCliTest.args("sd1-tiny", CASE, fromFolder), folder);
        int c = args.indexOf("--config");
        args.remove(c + 1);
        args.remove(c);
        SeededCasesCliTest.run(args);
        assertArrayEquals(Images.readRgb(single).pixels(), Images.readRgb(fromFolder).pixels());

        Path back = dir.resolve("back.safetensors");
        CliTest.Run r = CliTest.cli("convert", folder.toString(), back.toString());
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile ref = Fixtures.open("sd1-tiny/model.safetensors"); SafetensorsFile got = SafetensorsFile.open(back)) {
            long networks = ref.keys().stream().filter(k -> k.startsWith("model.diffusion_model.")
                    || k.startsWith("first_stage_model.") || k.startsWith("cond_stage_model.")).count();
            assertEquals(networks, got.keys().size());
            for (String k : got.keys()) {
                assertEquals(ref.info(k).dtype(), got.info(k).dtype(), k);
                assertArrayEquals(ref.info(k).shape(), got.info(k).shape(), k);
                assertEquals(ref.bytes(k), got.bytes(k), k);
            }
        }
        CliTest.Run again = CliTest.cli("convert", Fixtures.path("sd1-tiny/model.safetensors").toString(),
                folder.toString(), "--config", Fixtures.path("sd1-tiny/config.yaml").toString());
        assertEquals(2, again.code(), "a folder that exists is not overwritten: " + again.err());
    }

    /**
     * sdxl-tiny as a diffusers folder and back: the seeded SDXL case from the folder gives the single file's
     * pixels; the OpenCLIP tower (fused q/k/v split, text_projection transposed) comes back byte for byte.
     */
    @Test
    void anSdxlDiffusersFolderRoundTrips(@TempDir Path dir) {
        String id = "seeded_euler_64x64";
        Path folder = dir.resolve("sdxl-diffusers");
        CliTest.Run made = CliTest.cli("convert", Fixtures.path("sdxl-tiny/model.safetensors").toString(),
                folder.toString(), "--config", Fixtures.path("sdxl-tiny/config.yaml").toString());
        assertEquals(0, made.code(), made.err());
        assertTrue(Files.isRegularFile(folder.resolve("text_encoder_2/model.safetensors")));
        Path single = dir.resolve("single.png");
        Path fromFolder = dir.resolve("folder.png");
        SeededCasesCliTest.run(SeededCasesCliTest.args("sdxl-tiny", id, single));
        List<String> args = withModel(SeededCasesCliTest.args("sdxl-tiny", id, fromFolder), folder);
        int c = args.indexOf("--config");
        args.remove(c + 1);
        args.remove(c);
        SeededCasesCliTest.run(args);
        assertArrayEquals(Images.readRgb(single).pixels(), Images.readRgb(fromFolder).pixels());
        Path back = dir.resolve("back.safetensors");
        CliTest.Run r = CliTest.cli("convert", folder.toString(), back.toString());
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile ref = Fixtures.open("sdxl-tiny/model.safetensors"); SafetensorsFile got = SafetensorsFile.open(back)) {
            int openclip = 0;
            for (String k : got.keys()) {
                assertArrayEquals(ref.info(k).shape(), got.info(k).shape(), k);
                assertEquals(ref.bytes(k), got.bytes(k), k);
                openclip += k.startsWith("conditioner.embedders.1.model.") ? 1 : 0;
            }
            // every OpenCLIP tensor but logit_scale, which diffusers does not keep
            assertEquals(ref.keys().stream().filter(k -> k.startsWith("conditioner.embedders.1.model.")).count() - 1,
                    openclip);
        }
    }

    /**
     * sd2-tiny (OpenCLIP text encoder, v-prediction) as a diffusers folder: diffusers keeps the text tower without
     * the last layer, which the penultimate-layer conditioning never runs, and reads it to the end; a run from
     * the folder gives the single file's pixels.
     */
    @Test
    void anSd2DiffusersFolderGivesTheSameImage(@TempDir Path dir) throws IOException {
        Path folder = dir.resolve("sd2-diffusers");
        CliTest.Run made = CliTest.cli("convert", Fixtures.path("sd2-tiny/model.safetensors").toString(),
                folder.toString(), "--config", Fixtures.path("sd2-tiny/config.yaml").toString());
        assertEquals(0, made.code(), made.err());
        assertTrue(Files.readString(folder.resolve("text_encoder/config.json")).contains("\"num_hidden_layers\" : 1"));
        assertTrue(Files.readString(folder.resolve("scheduler/scheduler_config.json")).contains("v_prediction"));
        String[] run = {"generate", "-p", "a watercolor of a fox", "-n", "blurry", "-s", "11", "--steps", "3",
            "--sampling-method", "euler_a", "-W", "64", "-H", "64"};
        List<String> single = new ArrayList<>(List.of(run));
        single.addAll(List.of("-m", Fixtures.path("sd2-tiny/model.safetensors").toString(), "--config",
                Fixtures.path("sd2-tiny/config.yaml").toString(), "-o", dir.resolve("single.png").toString()));
        List<String> fromFolder = new ArrayList<>(List.of(run));
        fromFolder.addAll(List.of("-m", folder.toString(), "-o", dir.resolve("folder.png").toString()));
        SeededCasesCliTest.run(single);
        SeededCasesCliTest.run(fromFolder);
        assertArrayEquals(Images.readRgb(dir.resolve("single.png")).pixels(),
                Images.readRgb(dir.resolve("folder.png")).pixels());
    }

    private static List<String> withModel(List<String> args, Path model) {
        List<String> a = new ArrayList<>(args);
        a.set(a.indexOf("-m") + 1, model.toString());
        return a;
    }
}
