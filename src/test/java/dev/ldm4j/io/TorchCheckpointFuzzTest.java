package dev.ldm4j.io;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ldm4j.Fixtures;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutants of the good checkpoints and of their pickle: each one either parses, with every tensor inside
 * the file, or fails with a {@link ModelFileException}; never another exception, a hang or an OutOfMemoryError.
 */
class TorchCheckpointFuzzTest {
    /** Bytes where a mutation hits structure rather than tensor data: the pickles and the ZIP directory. */
    private static final int HOT = 1 << 16;
    /** Letters of allowed globals, so that GLOBAL sometimes names one. */
    private static final String TEXT = "torch._utils\n_rebuild_tensor_v2\nOrderedDict\ncollections\n";

    @TempDir
    Path dir;

    @Test
    void mutatedZipCheckpoints() throws IOException {
        fuzzFile(Files.readAllBytes(Fixtures.path("ckpt/sd1-tiny-vae-bare.pt")), "vae.pt", 1, 120);
    }

    @Test
    void mutatedLegacyCheckpoints() throws IOException {
        fuzzFile(Files.readAllBytes(Fixtures.path("ckpt/sd1-tiny-fp16-legacy.ckpt")), "legacy.ckpt", 2, 120);
    }

    @Test
    void mutatedPickleStreams() throws IOException {
        byte[] pickle;
        try (ZipFile zip = new ZipFile(Fixtures.path("ckpt/sd1-tiny.ckpt").toFile())) {
            pickle = zip.getInputStream(zip.getEntry("sd1-tiny/data.pkl")).readAllBytes();
        }
        Random r = new Random(3);
        Path p = dir.resolve("data.pkl");
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int i = 0; i < 400; i++) {
                Files.write(p, mutate(pickle, r, pickle.length));
                readPickle(p);
            }
        });
    }

    /** Random opcode programs: every opcode the reader knows, and some it refuses, with random arguments. */
    @Test
    void randomPicklePrograms() {
        byte[] ops = {'(', ')', ']', '}', 'N', 0x88 - 256, 0x89 - 256, 'K', 'M', 'J', 0x8a - 256, 'G', 'X',
            0x8c - 256, 'C', 'B', 't', 0x85 - 256, 0x86 - 256, 0x87 - 256, 'l', 'd', 'a', 'e', 's', 'u', '0', '1',
            '2', 'q', 'r', 0x94 - 256, 'h', 'j', 'c', 0x93 - 256, 'R', 0x81 - 256, 'b', 'Q', 0x8f - 256,
            0x90 - 256, 0x91 - 256, 0x95 - 256, 'p', 'g', 'i', 'o', '.'};
        Random r = new Random(4);
        Path p = dir.resolve("random.pkl");
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int i = 0; i < 2000; i++) {
                byte[] b = new byte[2 + r.nextInt(200)];
                b[0] = (byte) 0x80;
                b[1] = 2;
                for (int j = 2; j < b.length; j++) {
                    // mostly opcodes, sometimes small numbers (memo indexes, lengths) or text
                    int kind = r.nextInt(4);
                    b[j] = kind < 2 ? ops[r.nextInt(ops.length)] : kind == 2 ? (byte) r.nextInt(4)
                            : (byte) TEXT.charAt(r.nextInt(TEXT.length()));
                }
                Files.write(p, b);
                readPickle(p);
            }
        });
    }

    private void fuzzFile(byte[] good, String name, long seed, int count) {
        Random r = new Random(seed);
        Path p = dir.resolve(name);
        assertTimeoutPreemptively(Duration.ofSeconds(90), () -> {
            for (int i = 0; i < count; i++) {
                byte[] mutant = mutate(good, r, HOT);
                Files.write(p, mutant);
                open(p, mutant.length, i);
            }
        });
        assertFalse(Files.exists(Path.of("ldm4j-pickle-was-executed")));
    }

    private static void open(Path p, long size, int i) {
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            for (String k : f.keys()) {
                TensorInfo t = f.info(k);
                assertTrue(t.begin() >= 0 && t.begin() <= t.end() && t.end() <= size,
                        "mutant " + i + ": tensor " + k + " [" + t.begin() + ", " + t.end() + ") outside the file of "
                                + size + " bytes");
            }
        } catch (ModelFileException e) {
            assertTrue(e.getMessage().startsWith(p.toString()), "mutant " + i + ": " + e.getMessage());
        } catch (RuntimeException | Error e) {
            fail("mutant " + i + " threw " + e, e);
        }
    }

    private static void readPickle(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            PickleReader.read(p, new ByteReader(p, ch, 0, ch.size()), pid -> pid);
        } catch (ModelFileException e) {
            assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        } catch (RuntimeException | Error e) {
            fail("pickle " + Arrays.toString(Files.readAllBytes(p)) + " threw " + e, e);
        }
    }

    /** One of: some bytes flipped (mostly in the first {@code hot} bytes or the last ones), a cut, a splice. */
    private static byte[] mutate(byte[] good, Random r, int hot) {
        byte[] b = good.clone();
        switch (r.nextInt(4)) {
            case 0, 1 -> {
                for (int n = 1 + r.nextInt(8); n > 0; n--) {
                    int at = switch (r.nextInt(3)) {
                        case 0 -> r.nextInt(Math.min(hot, b.length));
                        case 1 -> b.length - 1 - r.nextInt(Math.min(hot, b.length));
                        default -> r.nextInt(b.length);
                    };
                    b[at] = r.nextBoolean() ? (byte) r.nextInt(256) : (byte) (b[at] ^ (1 << r.nextInt(8)));
                }
                return b;
            }
            case 2 -> {
                return Arrays.copyOf(b, r.nextBoolean() ? r.nextInt(Math.min(hot, b.length)) : r.nextInt(b.length));
            }
            default -> {
                int len = 1 + r.nextInt(64);
                int from = r.nextInt(b.length - len);
                int to = r.nextBoolean() ? r.nextInt(Math.min(hot, b.length - len)) : r.nextInt(b.length - len);
                System.arraycopy(good, from, b, to, len);
                return b;
            }
        }
    }
}
