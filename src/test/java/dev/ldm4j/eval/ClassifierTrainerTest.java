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

    private static double lossOf(String line) {
        return Double.parseDouble(line.replaceAll(".*loss ([0-9.]+),.*", "$1"));
    }
}
