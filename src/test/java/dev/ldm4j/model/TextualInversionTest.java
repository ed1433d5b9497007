package dev.ldm4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.text.TextualInversion;
import dev.ldm4j.unet.Conditioning;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Textual-inversion files in every format A1111 loads, written by PyTorch (scripts/reference/
 * textual_inversion_files.py) with vectors copied from the tiny models' own token tables: a prompt naming the
 * embedding must give exactly the conditioning of the prompt with the words whose rows it holds, on SD 1.x, SD 2.x
 * (OpenCLIP) and SDXL (both towers, and the pooled vector, whose end-of-text position the extra ids must not move).
 */
@Tag("golden")
class TextualInversionTest {
    private static Path dir(String family) {
        try {
            return Path.of(TextualInversionTest.class.getResource("/dev/ldm4j/text/ti/" + family).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static LatentDiffusionModel load(String folder, Path embeddings) {
        return ModelLoader.load(new ModelLoader.Options(Fixtures.path(folder + "/model.safetensors"),
                Fixtures.path(folder + "/config.yaml"), null, null).withEmbeddings(embeddings));
    }

    private static void assertSame(Tensor a, Tensor b, String what) {
        assertEquals(Tensors.shapeString(a), Tensors.shapeString(b), what);
        assertTrue(torch.equal(a, b), what + ": differs by up to " + a.sub(b).abs().max().item_double());
    }

    private static boolean same(Tensor a, Tensor b) {
        return Tensors.shapeString(a).equals(Tensors.shapeString(b)) && torch.equal(a, b);
    }

    private static Tensor context(LatentDiffusionModel m, String prompt) {
        return m.encodePrompts(List.of(prompt), 0);
    }

    @Test
    void sd1EveryFileFormatGivesTheWordsItWasMadeFrom() {
        try (LatentDiffusionModel m = load("sd1-tiny", dir("sd1"));
             PointerScope scope = new PointerScope(); InferenceMode g = new InferenceMode()) {
            Set<String> loaded = m.embeddings().loaded().stream().map(TextualInversion::name)
                    .collect(Collectors.toCollection(TreeSet::new));
            assertEquals(Set.of("a1111-apple", "concept", "emb-params", "legacy-cat"), loaded);
            assertEquals(Set.of("broken", "wrong-width"), m.embeddings().skipped().keySet());
            assertTrue(m.embeddings().skipped().get("wrong-width").contains("7 wide"));

            assertSame(context(m, "red apple on a table"), context(m, "a1111-apple on a table"), "a1111 .pt");
            assertSame(context(m, "a (cat:1.3) in a box"), context(m, "a (legacy-cat:1.3) in a box"), "legacy .pt");
            assertSame(context(m, "a dog, sleeping"), context(m, "a concept, sleeping"), "diffusers concept .bin");
            assertSame(context(m, "[big red dog] BREAK grass"), context(m, "[emb-params] BREAK grass"),
                    "emb_params .safetensors");
            // the word is matched on its tokens, so case and spacing do not matter, as in A1111
            assertSame(context(m, "RED apple"), context(m, "A1111-Apple"), "case");
        }
    }

    @Test
    void withoutTheFolderTheNameIsPlainText() {
        try (LatentDiffusionModel m = load("sd1-tiny", null);
             PointerScope scope = new PointerScope(); InferenceMode g = new InferenceMode()) {
            assertTrue(m.embeddings().isEmpty());
            assertFalse(same(context(m, "red apple on a table"), context(m, "a1111-apple on a table")));
        }
    }

    @Test
    void sd2OpenClipTower() {
        try (LatentDiffusionModel m = load("sd2-tiny", dir("sd2"));
             PointerScope scope = new PointerScope(); InferenceMode g = new InferenceMode()) {
            assertEquals(1, m.embeddings().loaded().size());
            assertSame(context(m, "a red apple"), context(m, "a sd2-apple"), "sd2");
        }
    }

    @Test
    void sdxlBothTowersAndThePooledVector() {
        try (LatentDiffusionModel m = load("sdxl-tiny", dir("sdxl"));
             PointerScope scope = new PointerScope(); InferenceMode g = new InferenceMode()) {
            assertEquals(1, m.embeddings().loaded().size());
            Conditioner.Inputs in = new Conditioner.Inputs(1, null, 64, 64, false);
            Conditioning word = m.conditioner().condition(List.of("a red apple"), in);
            Conditioning emb = m.conditioner().condition(List.of("a xl-apple"), in);
            assertSame(word.crossAttn(), emb.crossAttn(), "sdxl context");
            assertSame(word.vector(), emb.vector(), "sdxl pooled and size vector");
        }
    }

    @Test
    void sd1EmbeddingsAreSkippedBySdxl() {
        try (LatentDiffusionModel m = load("sdxl-tiny", dir("sd1"))) {
            assertTrue(m.embeddings().isEmpty());
            assertTrue(m.embeddings().skipped().get("a1111-apple").contains("clip_"), m.embeddings().skipped()
                    .toString());
        }
    }

    @Test
    void aMissingFolderIsAnError() {
        Path missing = Path.of("no-such-embeddings-folder");
        ModelFileException e = org.junit.jupiter.api.Assertions.assertThrows(ModelFileException.class,
                () -> load("sd1-tiny", missing).close());
        assertTrue(e.getMessage().contains("no-such-embeddings-folder"), e.getMessage());
    }
}
