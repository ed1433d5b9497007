package dev.ldm4j.train.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.data.Dataset;
import dev.ldm4j.data.DatasetException;
import dev.ldm4j.data.DatasetOptions;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.DType;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Torch;
import dev.ldm4j.nn.Weights;
import dev.ldm4j.vae.AutoencoderKL;
import dev.ldm4j.vae.Posterior;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@org.junit.jupiter.api.Tag("golden")
class AutoencoderTrainerTest {
    /** f = 2, 32/64 channels (GroupNorm needs multiples of 32), a 2-layer PatchGAN: ~0.3M parameters. */
    static String tinyYaml(long discStart) {
        return """
                model:
                  base_learning_rate: 1.0e-4
                  target: ldm.models.autoencoder.AutoencoderKL
                  params:
                    embed_dim: 4
                    lossconfig:
                      target: ldm.modules.losses.LPIPSWithDiscriminator
                      params:
                        disc_start: %d
                        kl_weight: 0.000001
                        disc_weight: 0.5
                        disc_num_layers: 2
                        disc_ndf: 8
                        perceptual_weight: 0.0
                    ddconfig:
                      double_z: True
                      z_channels: 4
                      resolution: 16
                      in_channels: 3
                      out_ch: 3
                      ch: 32
                      ch_mult: [ 1,2 ]
                      num_res_blocks: 1
                      attn_resolutions: [ ]
                      dropout: 0.0
                """.formatted(discStart);
    }

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        Torch.load();
    }

    /** Smooth coloured patterns: learnable by a tiny autoencoder in a few dozen steps. */
    static Tensor images(int n, int size) {
        float[] v = new float[n * 3 * size * size];
        for (int b = 0; b < n; b++) {
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < size; y++) {
                    for (int x = 0; x < size; x++) {
                        v[((b * 3 + c) * size + y) * size + x] =
                                (float) (0.8 * Math.sin(0.3 * (b + 1) * x + c) * Math.cos(0.2 * (c + 1) * y + b));
                    }
                }
            }
        }
        return Tensors.fromFloats(v, n, 3, size, size);
    }

    static Path imageFolder(Path dir, int n, int size) throws IOException {
        Files.createDirectories(dir);
        for (int b = 0; b < n; b++) {
            BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    int r = (int) (127.5 + 120 * Math.sin(0.3 * (b + 1) * x));
                    int g = (int) (127.5 + 120 * Math.cos(0.2 * (b + 2) * y));
                    int bl = (x * 16 + y * 8 + b * 40) & 0xff;
                    img.setRGB(x, y, r << 16 | g << 8 | bl);
                }
            }
            ImageIO.write(img, "png", dir.resolve("img" + b + ".png").toFile());
            Files.writeString(dir.resolve("img" + b + ".txt"), "pattern " + b);
        }
        return dir;
    }

    static AutoencoderTrainer trainer(long discStart, double lr) {
        AutoencoderSpec spec = AutoencoderSpec.parse(tinyYaml(discStart));
        return AutoencoderTrainer.create(spec, VaeTrainOptions.of(spec, 4, 7).withLearningRate(lr));
    }

    @Test
    void klMatchesHandComputation() {
        // B = 2, one latent channel, 1 x 2 latents; moments = [mean | logvar]
        float[] m = {0.5f, -1f, 0f, (float) Math.log(2), 2f, 0f, -1f, 1f};
        Posterior p = Posterior.fromMoments(Tensors.fromFloats(m, 2, 2, 1, 2));
        // per value 0.5 (mean^2 + e^logvar - 1 - logvar)
        double s0 = 0.5 * (0.25 + 1 - 1 - 0) + 0.5 * (1 + 2 - 1 - Math.log(2));
        double s1 = 0.5 * (4 + Math.exp(-1) - 1 + 1) + 0.5 * (0 + Math.E - 1 - 1);
        assertEquals((s0 + s1) / 2, VaeLosses.kl(p).item().toDouble(), 1e-6);
    }

    @Test
    void reconstructionIsPerImageSumAveragedOverBatch() {
        Tensor x = Tensors.fromFloats(new float[] {0, 0, 0, 0, 1, 1, 1, 1}, 2, 1, 2, 2);
        Tensor y = Tensors.fromFloats(new float[] {0.5f, 0, 0, 0, 1, 1, 0, 0}, 2, 1, 2, 2);
        assertEquals((0.5 + 2) / 2, VaeLosses.reconstruction(x, y).item().toDouble(), 1e-7);
    }

    @Test
    void hingeLossMatchesHandComputation() {
        Tensor real = Tensors.fromFloats(new float[] {2, 0.5f}, 2);
        Tensor fake = Tensors.fromFloats(new float[] {-2, 0}, 2);
        // real: relu(1 - r) = 0, 0.5 -> 0.25; fake: relu(1 + f) = 0, 1 -> 0.5
        assertEquals(0.5 * (0.25 + 0.5), VaeLosses.discriminator(real, fake, "hinge").item().toDouble(), 1e-7);
    }

    @Test
    void reconstructionLossGoesDown() {
        AutoencoderTrainer t = trainer(1_000_000, 2e-3);
        Tensor x = images(4, 16);
        List<Double> rec = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            rec.add(t.step(x).reconstruction());
        }
        double first = rec.subList(0, 5).stream().mapToDouble(d -> d).average().orElseThrow();
        double last = rec.subList(35, 40).stream().mapToDouble(d -> d).average().orElseThrow();
        assertTrue(last < 0.5 * first, "reconstruction loss " + first + " -> " + last);
    }

    @Test
    void discriminatorSwitchesOnExactlyAtDiscStart() {
        AutoencoderTrainer t = trainer(3, 1e-3);
        Tensor x = images(4, 16);
        float[] before = Tensors.toFloats(t.discriminatorParameters().values().iterator().next().detach().clone());
        for (int i = 1; i <= 3; i++) {
            VaeStepResult r = t.step(x);
            assertFalse(r.discriminatorOn(), "step " + i);
        }
        float[] still = Tensors.toFloats(t.discriminatorParameters().values().iterator().next().detach().clone());
        assertArrayEquals(before, still, "the discriminator must not change before disc_start");
        VaeStepResult r = t.step(x);
        assertTrue(r.discriminatorOn(), "step 4 is global step 3 = disc_start");
        assertTrue(Double.isFinite(r.discLoss()) && Double.isFinite(r.generatorLoss()) && r.discWeight() > 0);
        float[] after = Tensors.toFloats(t.discriminatorParameters().values().iterator().next().detach().clone());
        assertFalse(java.util.Arrays.equals(before, after), "the discriminator trains from disc_start");
    }

    @Test
    void exportedAutoencoderLoadsWithInferenceClassesBitExactly() {
        AutoencoderTrainer t = trainer(1, 1e-3);
        Tensor x = images(4, 16);
        t.step(x);
        t.step(x);
        Path model = tmp.resolve("vae.safetensors");
        Path yaml = tmp.resolve("vae.yaml");
        AutoencoderState.export(model, yaml, t, DType.F32);
        AutoencoderSpec readBack = AutoencoderSpec.read(yaml);
        assertEquals(t.spec(), readBack);
        try (SafetensorsFile f = SafetensorsFile.open(model)) {
            CheckpointSource src = new CheckpointSource(f);
            AutoencoderKL loaded = new AutoencoderKL(Weights.of(src, "first_stage_model."), readBack.vae());
            assertEquals(t.vaeParameters().keySet(), src.taken().keySet());
            assertTrue(src.unusedKeys().isEmpty(), "only autoencoder keys: " + src.unusedKeys());
            for (Map.Entry<String, Tensor> e : t.vaeParameters().entrySet()) {
                assertArrayEquals(Tensors.toFloats(e.getValue().detach()), Tensors.toFloats(src.taken().get(e.getKey())),
                        e.getKey());
            }
            try (NoGradGuard g = new NoGradGuard()) {
                assertArrayEquals(Tensors.toFloats(t.reconstruct(x)),
                        Tensors.toFloats(loaded.decode(loaded.encode(x).mode())));
            }
        }
    }

    @Test
    void resumeEqualsUninterruptedRun() throws IOException {
        Path data = imageFolder(tmp.resolve("data"), 6, 16);
        Dataset ds = Dataset.open(data, DatasetOptions.of(16).withFlip(true).withSeed(3));
        // disc_start 2: the adversarial part and its optimiser are in the saved state
        AutoencoderTrainer a = trainer(2, 1e-3);
        new AutoencoderTrainingRun(a, ds, null, tmp.resolve("a"), new AutoencoderTrainingRun.Options(5, 0, 0, DType.F32))
                .run(VaeTrainListener.NONE);

        AutoencoderTrainer b = trainer(2, 1e-3);
        new AutoencoderTrainingRun(b, ds, null, tmp.resolve("b"), new AutoencoderTrainingRun.Options(3, 0, 0, DType.F32))
                .run(VaeTrainListener.NONE);
        AutoencoderTrainer resumed = AutoencoderState.resume(tmp.resolve("b").resolve(AutoencoderTrainingRun.STATE));
        assertEquals(3, resumed.steps());
        new AutoencoderTrainingRun(resumed, ds, null, tmp.resolve("b"),
                new AutoencoderTrainingRun.Options(5, 0, 0, DType.F32)).run(VaeTrainListener.NONE);

        for (String k : a.vaeParameters().keySet()) {
            assertArrayEquals(Tensors.toFloats(a.vaeParameters().get(k).detach()),
                    Tensors.toFloats(resumed.vaeParameters().get(k).detach()), k);
        }
        for (String k : a.discriminatorParameters().keySet()) {
            assertArrayEquals(Tensors.toFloats(a.discriminatorParameters().get(k).detach()),
                    Tensors.toFloats(resumed.discriminatorParameters().get(k).detach()), k);
        }
        List<String> csvA = Files.readAllLines(tmp.resolve("a").resolve(AutoencoderTrainingRun.LOSSES));
        List<String> csvB = Files.readAllLines(tmp.resolve("b").resolve(AutoencoderTrainingRun.LOSSES));
        assertEquals(6, csvA.size());
        assertEquals(column(csvA, 1), column(csvB, 1), "same loss curve");
    }

    private static List<String> column(List<String> csv, int c) {
        return csv.stream().map(l -> l.split(",", -1)[c]).toList();
    }

    @Test
    void heldOutPsnrIsReported() throws IOException {
        Path data = imageFolder(tmp.resolve("d"), 4, 16);
        Dataset ds = Dataset.open(data, DatasetOptions.of(16));
        AutoencoderTrainer t = trainer(1_000_000, 1e-3);
        AutoencoderTrainingRun run = new AutoencoderTrainingRun(t, ds, ds, tmp.resolve("r"),
                new AutoencoderTrainingRun.Options(2, 0, 1, DType.F32));
        run.run(VaeTrainListener.NONE);
        assertTrue(run.lastPsnr() > 0 && run.lastPsnr() < 100, "psnr " + run.lastPsnr());
        List<String> csv = Files.readAllLines(tmp.resolve("r").resolve(AutoencoderTrainingRun.LOSSES));
        assertEquals(VaeLossCsv.HEADER, csv.get(0));
        assertFalse(csv.get(1).endsWith(","), "psnr at step 1 with eval every step");
    }

    @Test
    void nonsenseConfigsAreRefusedWithOneMessage() {
        String badWidth = tinyYaml(0).replace("ch: 32", "ch: 8");
        BadRequestException e = assertThrows(BadRequestException.class, () -> AutoencoderSpec.parse(badWidth));
        assertTrue(e.getMessage().contains("multiple of 32"), e.getMessage());
        String badZ = tinyYaml(0).replace("z_channels: 4", "z_channels: 0");
        assertThrows(BadRequestException.class, () -> AutoencoderSpec.parse(badZ));
        String noMult = tinyYaml(0).replace("ch_mult: [ 1,2 ]", "ch_mult: [ ]");
        assertThrows(BadRequestException.class, () -> AutoencoderSpec.parse(noMult));
        AutoencoderSpec spec = AutoencoderSpec.parse(tinyYaml(0));
        assertThrows(BadRequestException.class, () -> spec.checkImageSize(15));
        assertThrows(BadRequestException.class, () -> spec.checkImageSize(4), "too small for the PatchGAN");
    }

    @Test
    void emptyDatasetFolderIsOneClearError() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        DatasetException e = assertThrows(DatasetException.class, () -> Dataset.open(empty, DatasetOptions.of(16)));
        assertTrue(e.getMessage().contains("no examples"), e.getMessage());
    }
}
