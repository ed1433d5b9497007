package dev.ldm4j.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.Fixtures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The vocabulary rebuilt from the bundled merge list equals the Hugging Face files of the same tokenizer. */
class ClipVocabularyTest {
    @Test
    void idsEqualVocabJson() throws IOException {
        ClipVocabulary vocab = ClipVocabulary.loadBundled();
        JsonNode expected = new ObjectMapper().readTree(Fixtures.path("tokenizer/vocab.json").toFile());
        assertEquals(expected.size(), vocab.size(), "vocabulary size");
        for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            assertEquals(e.getValue().asInt(), vocab.id(e.getKey()), "id of '" + e.getKey() + "'");
            assertEquals(e.getKey(), vocab.token(e.getValue().asInt()), "token " + e.getValue());
        }
    }

    @Test
    void mergeRanksFollowMergesTxt() throws IOException {
        ClipVocabulary vocab = ClipVocabulary.loadBundled();
        List<String> lines = Files.readAllLines(Fixtures.path("tokenizer/merges.txt"), StandardCharsets.UTF_8);
        assertEquals("#version: 0.2", lines.get(0));
        List<String> merges = lines.subList(1, lines.size()).stream().filter(l -> !l.isBlank()).toList();
        assertEquals(ClipVocabulary.MERGE_COUNT, merges.size(), "merge count");
        for (int rank = 0; rank < merges.size(); rank++) {
            String[] pair = merges.get(rank).split(" ");
            assertEquals(rank, vocab.mergeRank(pair[0], pair[1]), "rank of " + merges.get(rank));
        }
        assertEquals(Integer.MAX_VALUE, vocab.mergeRank("q", "q</w>"), "an unknown pair has no rank");
    }

    @Test
    void everyByteHasAPrintableSymbolAndBack() {
        ClipVocabulary vocab = ClipVocabulary.loadBundled();
        for (int b = 0; b < 256; b++) {
            char symbol = vocab.symbolOf(b);
            assertEquals(b, vocab.byteOf(symbol));
            assertEquals(false, Character.isWhitespace(symbol) || Character.isISOControl(symbol), "byte " + b);
        }
    }
}
