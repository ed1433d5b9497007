package dev.ldm4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.data.Dataset;
import dev.ldm4j.data.DatasetOptions;
import dev.ldm4j.data.Split;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.Precision;
import dev.ldm4j.nn.Torch;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmojiEvalTest {
    @TempDir
    static Path tmp;
    static Split split;
    static CategoryClassifier judge;
    static LatentDiffusionModel sd;

    @BeforeAll
    static void setUp() throws Exception {
        Torch.load();
        split = Dataset.open(SyntheticEmoji.write(tmp.resolve("data")), DatasetOptions.of(64)).split();
        judge = ClassifierTrainer.train(split.train(), new ClassifierTrainer.Options(6, 8, 3e-3, 1e-4, 5), l -> {});
        sd = ModelLoader.load(new ModelLoader.Options(Fixtures.path("sd1-tiny/model.safetensors"),
                Fixtures.path("sd1-tiny/config.yaml"), null, null, Precision.FP32, Precision.FP32));
    }

    private static EmojiEval.Result run(int limit) {
        return EmojiEval.run(sd, judge, split, new EmojiEval.Settings(4, 5.0, "euler", "discrete", 7, limit), i -> {});
    }

    @Test
    void reportsEveryFigureConsistentlyAndReproducibly() {
        EmojiEval.Result result = run(0);
        EmojiEval.Report r = result.report();
        assertEquals(SyntheticEmoji.HELD_OUT.size(), r.images());
        assertEquals(r.images(), result.images().size());
        result.images().forEach(img -> assertEquals(64, img.width()));
        // held out: 3 discs (food & drink), 2 squares, 1 flag
        assertEquals(0.5, r.majorityRate(), 1e-12);
        assertEquals("food & drink", r.majorityCategory());
        assertEquals(3, r.perCategory().get("food & drink").prompts());
        int prompts = r.perCategory().values().stream().mapToInt(EmojiEval.CategoryCount::prompts).sum();
        int correct = r.perCategory().values().stream().mapToInt(EmojiEval.CategoryCount::correct).sum();
        assertEquals(r.images(), prompts);
        assertEquals(correct / (double) r.images(), r.accuracy(), 1e-12);
        assertTrue(r.classifierAccuracyOnReal() >= 5 / 6.0, "the judge tells the real held-out images apart");
        // the tiny model's random autoencoder turns the shapes into noise the judge cannot place reliably
        double share = r.classifierAccuracyOnDecoded() * r.images();
        assertEquals(Math.round(share), share, 1e-9, "a count of held-out images");
        assertTrue(Double.isFinite(r.frechetDistance()) && r.frechetDistance() > -1e-6);
        assertTrue(Double.isFinite(r.frechetDistanceRealTrain()) && r.frechetDistanceRealTrain() > -1e-6);
        // a random-weight tiny model makes noise, not shapes: far from the real images, further than real
        // training images are
        assertTrue(r.frechetDistance() > r.frechetDistanceRealTrain(), r.toString());
        assertTrue(Double.isFinite(r.autoencoderPsnr()) && r.autoencoderPsnr() > 0);
        assertTrue(r.frechetDistanceStandardError() > 0, "6 captions resampled do not give one distance");
        assertEquals(r.images() * CategoryClassifier.FEATURES, result.generatedFeatures().length);
        assertEquals(r.images() * CategoryClassifier.FEATURES, result.realFeatures().length);

        EmojiEval.Result second = run(0);
        assertEquals(r, second.report(), "seeded: the same figures on a second run");
        assertEquals(0.5, result.shareCloserThan(second), 0.0, "the same images: every resample a tie");
    }

    @Test
    void furtherSeedsPerCaptionAddImagesAfterTheOneSeedOnes() {
        EmojiEval.Result one = run(0);
        EmojiEval.Result two = EmojiEval.run(sd, judge, split,
                new EmojiEval.Settings(4, 5.0, "euler", "discrete", 7, 0, 0, 2), i -> {});
        EmojiEval.Report r = two.report();
        assertEquals(one.report().images(), r.images(), "captions are counted, not images");
        int f = CategoryClassifier.FEATURES;
        assertEquals(2 * r.images() * f, two.generatedFeatures().length);
        assertEquals(r.images() * f, two.realFeatures().length);
        for (int i = 0; i < r.images(); i++) {
            // a caption's first image is the one-seed eval's image, in rows [2i, 2i + 1]
            assertEquals(java.util.Arrays.toString(java.util.Arrays.copyOfRange(one.generatedFeatures(), i * f, (i + 1) * f)),
                    java.util.Arrays.toString(java.util.Arrays.copyOfRange(two.generatedFeatures(), 2 * i * f, (2 * i + 1) * f)));
        }
        assertEquals(one.images().size(), two.images().size(), "the contact sheet shows each caption's first image");
        int prompts = r.perCategory().values().stream().mapToInt(EmojiEval.CategoryCount::prompts).sum();
        int correct = r.perCategory().values().stream().mapToInt(EmojiEval.CategoryCount::correct).sum();
        assertEquals(2 * r.images(), prompts);
        assertEquals(correct / (2.0 * r.images()), r.accuracy(), 1e-12);
        assertEquals(one.report().majorityRate(), r.majorityRate(), 1e-12);
        assertEquals(one.report().frechetDistanceRealTrain(), r.frechetDistanceRealTrain(), 0.0);
        assertThrows(IllegalArgumentException.class, () -> two.shareCloserThan(one));
        assertThrows(dev.ldm4j.io.BadRequestException.class,
                () -> new EmojiEval.Settings(4, 5.0, "euler", "discrete", 7, 0, 0, 0));
    }

    @Test
    void limitTakesTheFirstImages() {
        EmojiEval.Report r = run(2).report();
        assertEquals(2, r.images());
        assertEquals(1.0, r.majorityRate(), 1e-12, "the first two held-out images are both discs");
    }

    @Test
    void promptTagsCutTheCaptionToItsFirstTags() {
        EmojiEval.Settings whole = new EmojiEval.Settings(4, 5.0, "euler", "discrete", 7, 0);
        EmojiEval.Settings name = new EmojiEval.Settings(4, 5.0, "euler", "discrete", 7, 0, 1);
        EmojiEval.Settings two = new EmojiEval.Settings(4, 5.0, "euler", "discrete", 7, 0, 2);
        String caption = "red apple, apple, food & drink, food fruit";
        assertEquals(caption, whole.prompt(caption));
        assertEquals("red apple", name.prompt(caption));
        assertEquals("red apple, apple", two.prompt(caption));
        assertEquals("red apple", new EmojiEval.Settings(4, 5.0, "euler", "discrete", 7, 0, 9).prompt("red apple"));
        assertEquals("red apple", name.request(caption, 64, 3, 0, 155).prompt());
        assertEquals(10, name.request(caption, 64, 3, 0, 155).seed());
        // further seeds of a caption come in blocks of one per caption, so the first block is a one-seed eval's
        assertEquals(7 + 2 * 155 + 3, name.request(caption, 64, 3, 2, 155).seed());
    }
}
