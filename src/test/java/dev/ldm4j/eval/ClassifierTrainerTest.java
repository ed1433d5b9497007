package dev.ldm4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.data.Dataset;
import dev.ldm4j.data.DatasetOptions;
import dev.ldm4j.data.Split;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Torch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClassifierTrainerTest {
    @TempDir
    static Path tmp;
    static Split split;
    static CategoryClassifier trained;
    static List<String> log = new ArrayList<>();

    @BeforeAll
    static void train() throws Exception {
        Torch.load();
        Path data = SyntheticEmoji.write(tmp.resolve("data"));
        split = Dataset.open(data, DatasetOptions.of(64).withFlip(true).withSeed(1)).split();
        trained = ClassifierTrainer.train(split.train(), new ClassifierTrainer.Options(12, 8, 3e-3, 1e-4, 5), log::add);
    }

    @Test
    void learnsTheCategoriesAndGeneralisesToHeldOutImages() {
        assertEquals(12, log.size(), "one line per epoch: " + log);
        double first = lossOf(log.get(0));
        double last = lossOf(log.get(log.size() - 1));
        assertTrue(last < first / 4, "loss went down: " + log);
        assertEquals(1.0, ClassifierTrainer.accuracy(trained, split.train()), 1e-9);
        // 6 held-out images of three colour-coded shapes
        assertTrue(ClassifierTrainer.accuracy(trained, split.heldOut()) >= 5 / 6.0);
    }

    @Test
    void saveAndLoadRoundTripsExactly() {
        Path file = tmp.resolve("classifier.safetensors");
        trained.save(file);
        CategoryClassifier loaded = CategoryClassifier.load(file);
        for (var e : trained.parameters().entrySet()) {
            assertTrue(e.getValue().equal(loaded.parameters().get(e.getKey())), e.getKey());
        }
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor x = split.heldOut().get(0).image().unsqueeze(0);
            assertTrue(trained.features(x).equal(loaded.features(x)));
        }
    }

    @Test
    void refusesFilesThatAreNotAClassifier() {
        Path notAClassifier = Fixtures.path("sd1-tiny/model.safetensors");
        ModelFileException e = assertThrows(ModelFileException.class, () -> CategoryClassifier.load(notAClassifier));
        assertTrue(e.getMessage().contains("not an emoji category classifier"), e.getMessage());
        ModelFileException missing = assertThrows(ModelFileException.class,
                () -> CategoryClassifier.load(tmp.resolve("nothing.safetensors")));
        assertTrue(missing.getMessage().contains("train-classifier"), missing.getMessage());
    }

    @Test
    void rejectsImagesOfTheWrongSize() {
        assertThrows(IllegalArgumentException.class,
                () -> trained.features(Tensors.fromFloats(new float[3 * 32 * 32], 1, 3, 32, 32)));
    }

    @Test
    void anIdentityRoundTripForEveryExampleTrainsExactlyAsTheDrawnImages() {
        // the decoded copies are mirrored as the dataset mirrors the example in that epoch; with a round trip
        // that changes nothing, swapping every example must give the very same training
        ClassifierTrainer.Options plain = new ClassifierTrainer.Options(3, 8, 3e-3, 1e-4, 7, false, 0);
        ClassifierTrainer.Options allDecoded = new ClassifierTrainer.Options(3, 8, 3e-3, 1e-4, 7, false, 1);
        CategoryClassifier a = ClassifierTrainer.train(split.train(), plain, l -> {});
        CategoryClassifier b = ClassifierTrainer.train(split.train(), allDecoded, x -> x.mul(
                dev.ldm4j.nn.Ops.s(1)), l -> {});
        for (var e : a.parameters().entrySet()) {
            assertTrue(e.getValue().equal(b.parameters().get(e.getKey())), e.getKey());
        }
        // a round trip that does change the pixels changes the training
        CategoryClassifier c = ClassifierTrainer.train(split.train(), allDecoded, x -> x.neg(), l -> {});
        assertTrue(!a.parameters().get("head.weight").equal(c.parameters().get("head.weight")));
        assertThrows(IllegalArgumentException.class, () -> ClassifierTrainer.train(split.train(), allDecoded, l -> {}));
    }

    @Test
    void theBalancedLossIsTheWeightedMeanOfEachExamplesNegativeLogLikelihood() {
        float[] logits = {2f, 0f, -1f, 0.5f, 0.5f, 0.5f, -2f, 1f, 3f, 0f, 1f, 0f};
        long[] target = {0, 1, 2, 1};
        float[] weights = {2f, 1f, 0.5f};
        double num = 0;
        double den = 0;
        for (int i = 0; i < 4; i++) {
            double z = 0;
            for (int k = 0; k < 3; k++) {
                z += Math.exp(logits[i * 3 + k]);
            }
            double nll = Math.log(z) - logits[i * 3 + (int) target[i]];
            num += weights[(int) target[i]] * nll;
            den += weights[(int) target[i]];
        }
        Tensor x = Tensors.fromFloats(logits, 4, 3);
        Tensor t = Tensors.fromLongs(target, 4);
        double got = ClassifierTrainer.weightedCrossEntropy(x, t, Tensors.fromFloats(weights, 3)).item_double();
        assertEquals(num / den, got, 1e-6);
        double ones = ClassifierTrainer.weightedCrossEntropy(x, t, Tensors.fromFloats(new float[] {1, 1, 1}, 3))
                .item_double();
        assertEquals(org.bytedeco.pytorch.global.torch.cross_entropy_loss(x, t).item_double(), ones, 1e-6);
    }

    @Test
    void perCategoryAccuracyCountsEveryHeldOutImageOnce() {
        var counts = ClassifierTrainer.accuracyByCategory(trained, split.heldOut(), x -> x);
        assertEquals(List.of("food & drink", "symbols", "flags"), List.copyOf(counts.keySet()));
        assertEquals(3, counts.get("food & drink")[0]);
        assertEquals(2, counts.get("symbols")[0]);
        assertEquals(1, counts.get("flags")[0]);
        int right = counts.values().stream().mapToInt(v -> v[1]).sum();
        assertEquals(ClassifierTrainer.accuracy(trained, split.heldOut()), right / 6.0, 1e-12);
    }

    private static double lossOf(String line) {
        return Double.parseDouble(line.replaceAll(".*loss ([0-9.]+),.*", "$1"));
    }
}
