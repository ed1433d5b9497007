package dev.ldm4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.nn.Tensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The PyTorch checkpoints of the fixtures (ckpt/manifest.json) read through {@link SafetensorsFile#open}. */
class TorchCheckpointTest {
    private static final String REFERENCE = "sd1-tiny/model.safetensors";

    /** The files an executed pickle or an extracted zip-slip entry would leave behind. */
    @AfterEach
    void nothingWasExecutedOrWritten() {
        assertFalse(Files.exists(Path.of("ldm4j-pickle-was-executed")), "a pickle was executed");
        assertFalse(Files.exists(Path.of("outside.txt")), "a ZIP entry was extracted");
        assertFalse(Files.exists(Path.of("..", "..", "outside.txt")), "a ZIP entry was extracted");
        assertFalse(Files.exists(Fixtures.path("outside.txt")), "a ZIP entry was extracted");
    }

    @Test
    void zipCheckpointHasExactlyTheSafetensorsTensors() {
        try (SafetensorsFile ckpt = Fixtures.open("ckpt/sd1-tiny.ckpt"); SafetensorsFile ref = Fixtures.open(REFERENCE)) {
            assertEquals(new TreeSet<>(ref.keys()), new TreeSet<>(ckpt.keys()));
            for (String k : ref.keys()) {
                assertSameBytes(ref, ckpt, k);
            }
            assertTrue(ckpt.metadata().isEmpty());
        }
    }

    @Test
    void bareVaeFileHasTheFirstStageTensors() {
        try (SafetensorsFile vae = Fixtures.open("ckpt/sd1-tiny-vae-bare.pt"); SafetensorsFile ref = Fixtures.open(REFERENCE)) {
            Set<String> expected = ref.keys().stream().filter(k -> k.startsWith("first_stage_model."))
                    .collect(Collectors.toCollection(TreeSet::new));
            assertEquals(expected, new TreeSet<>(vae.keys()));
            for (String k : expected) {
                assertSameBytes(ref, vae, k);
            }
        }
    }

    @Test
    void legacyFp16CheckpointHasTheTensorsRoundedToHalf() {
        try (SafetensorsFile legacy = Fixtures.open("ckpt/sd1-tiny-fp16-legacy.ckpt");
             SafetensorsFile ref = Fixtures.open(REFERENCE)) {
            for (String k : ref.keys()) {
                TensorInfo want = ref.info(k);
                TensorInfo got = legacy.info(k);
                assertArrayEquals(want.shape(), got.shape(), k);
                // every tensor was saved as .half(), the int64 position_ids too
                assertEquals(DType.F16, got.dtype(), k);
                // half to float is exact, so equal floats are equal halves, bit for bit
                Tensor half = Tensors.read(ref, k).to(ScalarType.Half);
                assertArrayEquals(Tensors.toFloats(half), Tensors.toFloats(Tensors.read(legacy, k)), k);
            }
        }
    }

    @Test
    void legacyViewsOfOneStorage() {
        try (SafetensorsFile legacy = Fixtures.open("ckpt/sd1-tiny-fp16-legacy.ckpt")) {
            TensorInfo a = legacy.info("extra.shared_storage.a");
            TensorInfo b = legacy.info("extra.shared_storage.b");
            assertArrayEquals(new long[] {32, 32}, a.shape());
            assertArrayEquals(new long[] {32, 32}, b.shape());
            assertEquals(DType.F16, a.dtype());
            // rows 32-63 follow rows 0-31 in the one [96, 32] storage
            assertEquals(a.end(), b.begin());
            assertEquals(32 * 32 * 2, a.byteSize());
            assertFalse(legacy.bytes("extra.shared_storage.a").equals(legacy.bytes("extra.shared_storage.b")));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"evil-os-system.ckpt", "evil-legacy-eval.pt", "evil-zip-slip.ckpt", "truncated.ckpt"})
    void hostileAndBrokenFilesAreRefused(String name) {
        Path p = Fixtures.path("ckpt/" + name);
        ModelFileException e = assertThrows(ModelFileException.class, () -> SafetensorsFile.open(p).close());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
    }

    @Test
    void refusalsSayWhy() {
        assertMessage("evil-os-system.ckpt", "posix.system");
        assertMessage("evil-legacy-eval.pt", "builtins.eval");
        assertMessage("evil-zip-slip.ckpt", "../../outside.txt");
        assertMessage("truncated.ckpt", "truncated");
    }

    private static void assertMessage(String name, String part) {
        Path file = Fixtures.path("ckpt/" + name); // outside assertThrows: a missing fixture skips, not fails
        ModelFileException e = assertThrows(ModelFileException.class, () -> SafetensorsFile.open(file).close());
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    private static void assertSameBytes(SafetensorsFile ref, SafetensorsFile got, String k) {
        TensorInfo want = ref.info(k);
        TensorInfo info = got.info(k);
        assertEquals(want.dtype(), info.dtype(), k);
        assertArrayEquals(want.shape(), info.shape(), k);
        assertEquals(ref.bytes(k), got.bytes(k), k + ": bytes differ");
    }
}
