package dev.ldm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.Fixtures;
import dev.ldm4j.eval.SyntheticEmoji;
import dev.ldm4j.io.Images;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalCommandTest {
    @TempDir
    Path tmp;

    @Test
    void trainsAClassifierThenEvaluatesAModelWithIt() throws Exception {
        Path data = SyntheticEmoji.write(tmp.resolve("data"));
        Path classifier = tmp.resolve("classifier.safetensors");
        CliTest.Run trained = CliTest.cli("train-classifier", "--data", data.toString(), "-o", classifier.toString(),
                "--epochs", "4", "-b", "8", "--lr", "3e-3");
        assertEquals(0, trained.code(), trained.err());
        assertTrue(trained.err().contains("held out"), trained.err());
        assertTrue(Files.isRegularFile(classifier));

        Path json = tmp.resolve("eval.json");
        Path grid = tmp.resolve("grid.png");
        CliTest.Run r = CliTest.cli("eval", "-m", Fixtures.path("sd1-tiny/model.safetensors").toString(), "--config",
                Fixtures.path("sd1-tiny/config.yaml").toString(), "--data", data.toString(), "--classifier",
                classifier.toString(), "--steps", "3", "--json", json.toString(), "--grid", grid.toString(),
                "--name-retrieval", "1", "--retrieval-names", "2", "--baseline",
                Fixtures.path("sd1-tiny/model.safetensors").toString(), "--baseline-config",
                Fixtures.path("sd1-tiny/config.yaml").toString());
        assertEquals(0, r.code(), r.err());
        // the baseline is the same model: same seeds and judge, so every figure must come out the same
        long compared = r.out().lines().filter(l -> l.endsWith("  same")).count();
        assertEquals(11, compared, r.out());
        assertTrue(!r.out().contains("better"), r.out());
        assertTrue(r.out().contains("category accuracy of generated images"), r.out());
        assertTrue(r.out().contains("name retrieval, training names") && r.out().contains("2 names x 1 seeds"), r.out());
        assertTrue(r.out().contains("majority class 'food & drink': 0.500"), r.out());
        assertTrue(r.out().contains("the first closer to the real images in 50% of 200 paired resamples"), r.out());
        assertEquals(0.5, new ObjectMapper().readTree(json.toFile())
                .path("frechetDistanceShareOfResamplesCloserThanBaseline").asDouble(-1), 0.0);
        JsonNode base = new ObjectMapper().readTree(json.toFile()).get("baseline");
        assertEquals(base.path("report").path("frechetDistance").asDouble(), new ObjectMapper().readTree(json.toFile())
                .path("report").path("frechetDistance").asDouble(), 0.0);
        JsonNode names = new ObjectMapper().readTree(json.toFile()).get("nameRetrieval");
        assertEquals(2, names.path("train").path("images").asInt());
        // the names not drawn (a random model draws none of them, but any is allowed): one nearest name an image
        JsonNode missed = names.path("train").path("missed");
        assertTrue(missed.isArray() && missed.size() <= 2, missed.toString());
        for (JsonNode m : missed) {
            assertEquals(1, m.path("drawnAs").size(), m.toString());
        }
        assertEquals(missed.size() > 0, r.out().contains("training names not drawn"), r.out());
        JsonNode report = new ObjectMapper().readTree(json.toFile()).get("report");
        assertEquals(SyntheticEmoji.HELD_OUT.size(), report.get("images").asInt());
        assertTrue(report.get("accuracy").asDouble() >= 0 && report.get("accuracy").asDouble() <= 1);
        assertEquals(0.5, report.get("majorityRate").asDouble(), 1e-12);
        // 6 images of 64x64 in one row (up to 16 a row), with 2-pixel gaps around them
        assertEquals(64 + 2 * 2, Images.readRgb(grid).height());
        assertEquals(6 * 64 + 7 * 2, Images.readRgb(grid).width());
    }

    @Test
    void aMissingClassifierOrDatasetIsAOneLineError() throws Exception {
        CliTest.Run r = CliTest.cli("eval", "-m", Fixtures.path("sd1-tiny/model.safetensors").toString(),
                "--data", tmp.toString(), "--classifier", tmp.resolve("none.safetensors").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("train-classifier"), r.err());
        Path classifier = tmp.resolve("c.safetensors");
        assertEquals(0, CliTest.cli("train-classifier", "--data", SyntheticEmoji.write(tmp.resolve("d")).toString(),
                "-o", classifier.toString(), "--epochs", "1").code());
        CliTest.Run noData = CliTest.cli("eval", "-m", Fixtures.path("sd1-tiny/model.safetensors").toString(),
                "--data", tmp.resolve("empty").toString(), "--classifier", classifier.toString());
        assertEquals(2, noData.code(), noData.err());
        assertTrue(noData.err().contains("fetch-emoji-dataset"), noData.err());        CliTest.Run noSeeds = CliTest.cli("eval", "-m", Fixtures.path("sd1-tiny/model.safetensors").toString(),
                "--data", tmp.resolve("d").toString(), "--classifier", classifier.toString(), "--seeds-per-caption", "0");
        assertEquals(2, noSeeds.code(), noSeeds.err());
        assertTrue(noSeeds.err().contains("--seeds-per-caption: seeds per caption must be 1 or more"), noSeeds.err());
    }

    @Test
    void theEverydayGridIsSixteenPromptsByEightSeeds(@TempDir Path tmp) {
        Path grid = tmp.resolve("everyday.png");
        CliTest.Run r = CliTest.cli("eval", "-m", Fixtures.path("sd1-tiny/model.safetensors").toString(), "--config",
                Fixtures.path("sd1-tiny/config.yaml").toString(), "--steps", "1", "--everyday-grid", grid.toString());
        assertEquals(0, r.code(), r.err());
        int size = Images.readRgb(grid).width() == 8 * 64 + 9 * 2 ? 64 : -1;
        assertEquals(64, size, "8 columns of 64 px with 2 px gaps");
        assertEquals(16 * 64 + 17 * 2, Images.readRgb(grid).height());
        assertTrue(Images.readText(grid).get(Images.PARAMETERS).contains("red apple"));
        // the default judge sorts each prompt's 8 images: one line a prompt, counts adding up to 8
        java.util.List<String> judged = r.out().lines().filter(l -> l.contains(": judged ")).toList();
        assertEquals(16, judged.size(), r.out());
        assertTrue(judged.get(0).startsWith("red apple: judged "), judged.get(0));
        for (String line : judged) {
            int sum = java.util.Arrays.stream(line.replaceAll(".*: judged ", "").split(", "))
                    .mapToInt(p -> Integer.parseInt(p.replaceAll(".* ", ""))).sum();
            assertEquals(8, sum, line);
        }
    }
}
