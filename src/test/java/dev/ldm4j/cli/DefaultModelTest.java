package dev.ldm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.eval.CategoryClassifier;
import dev.ldm4j.eval.EmojiCategory;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.model.DefaultModel;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.nn.Ops;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The README's main command: {@code generate} without {@code -m} draws with the shipped emoji model, at its
 * training size, a picture that the shipped category classifier puts in the prompt's category.
 */
class DefaultModelTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource({
        // what version 3 draws recognisably and the judge places reliably (docs/default-model.md). Not "red
        // apple": an apple at every seed tried, but the judge calls most of them 'activities'; not "soccer ball"
        // (judged 'objects'); not "pizza" (the model cannot draw it)
        "grinning face, SMILEYS_AND_EMOTION",
        "flag: France, FLAGS",
        "woman running, PEOPLE_AND_BODY",
        "car, TRAVEL_AND_PLACES",
        "birthday cake, FOOD_AND_DRINK",
        "tree, ANIMALS_AND_NATURE",
    })
    void generateWithoutAModelDrawsTheShippedModelsPicture(String prompt, EmojiCategory expected) {
        assertTrue(Files.isRegularFile(DefaultModel.model()), "the default model ships in " + DefaultModel.MODEL);
        Path png = tmp.resolve("out.png");
        CliTest.Run r = CliTest.cli("generate", "-p", prompt, "-o", png.toString());
        assertEquals(0, r.code(), r.err());
        RgbImage image = Images.readRgb(png);
        assertEquals(64, image.width(), "the emoji model's own size, from its ldm4j.image_size");
        assertEquals(64, image.height());
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            CategoryClassifier judge = CategoryClassifier.load(DefaultModel.classifier());
            // the written 8-bit PNG, in the [-1, 1] of the classifier's training images
            EmojiCategory got = judge.predict(ImageTensors.readRgb(png).mul(Ops.s(2)).sub(Ops.s(1)))[0];
            assertEquals(expected, got, "category of '" + prompt + "'");
        }
    }
}
