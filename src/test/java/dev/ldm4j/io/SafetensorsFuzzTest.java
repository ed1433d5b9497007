package dev.ldm4j.io;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutants of a real safetensors file (header bytes flipped, digits of shapes and offsets changed, the
 * header length field changed, the file cut short): each opens, with every tensor's bytes inside the file and
 * readable, or is refused with a {@link ModelFileException} naming the file. Nothing else escapes.
 */
class SafetensorsFuzzTest {
    private static final int RUNS = 1500;

    @Test
    void mutantsOpenConsistentlyOrAreRefused(@TempDir Path dir) throws Exception {
        byte[] original = Files.readAllBytes(Fixtures.path("lora/sd1_tiny_lora.safetensors"));
        int headerLen = (int) ByteBuffer.wrap(original, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Random random = new Random(4242);
        int opened = 0;
        Path file = dir.resolve("mutant.safetensors");
        for (int run = 0; run < RUNS; run++) {
            byte[] b = mutate(original, headerLen, random);
            Files.write(file, b);
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                long dataStart = 8 + ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
                for (String key : f.keys()) {
                    TensorInfo t = f.info(key);
                    assertTrue(t.begin() >= 0 && t.end() >= t.begin() && dataStart + t.end() <= b.length,
                            key + " outside the file");
                    ByteBuffer dst = ByteBuffer.allocate((int) t.byteSize());
                    f.read(key, dst);
                }
                opened++;
            } catch (ModelFileException e) {
                assertTrue(e.getMessage().contains(file.toString()), "the error does not name the file: " + e.getMessage());
            }
        }
        assertTrue(opened > 0 && opened < RUNS, "opened " + opened + " of " + RUNS);
    }

    private static byte[] mutate(byte[] original, int headerLen, Random random) {
        byte[] b = original.clone();
        switch (random.nextInt(5)) {
            case 0 -> {
                for (int i = 0; i < 1 + random.nextInt(3); i++) {
                    b[8 + random.nextInt(headerLen)] = (byte) random.nextInt(256);
                }
            }
            case 1 -> {
                String h = new String(b, 8, headerLen, StandardCharsets.ISO_8859_1);
                for (int tries = 0; tries < 3; tries++) {
                    int at = random.nextInt(h.length());
                    for (int i = at; i < h.length(); i++) {
                        if (Character.isDigit(h.charAt(i))) {
                            b[8 + i] = (byte) ('0' + random.nextInt(10));
                            break;
                        }
                    }
                }
            }
            case 2 -> ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN)
                    .putLong(0, random.nextBoolean() ? random.nextInt(headerLen * 2 + 16) : random.nextLong());
            case 3 -> b = java.util.Arrays.copyOf(b, random.nextInt(b.length));
            default -> { // a digit run made much longer: a huge shape or offset
                String h = new String(b, 8, headerLen, StandardCharsets.ISO_8859_1);
                int at = h.indexOf("[", random.nextInt(h.length()));
                if (at > 0 && at + 2 < h.length() && Character.isDigit(h.charAt(at + 1))) {
                    b[8 + at + 1] = '9';
                }
            }
        }
        return b;
    }
}
