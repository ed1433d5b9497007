package dev.ldm4j.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.ParameterSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated LoRA files (bytes flipped in the header and the data, the file cut short, shapes and names edited)
 * read and merged into sd1-tiny's weights: each either merges or is refused with a clear error (a
 * {@link ModelFileException} or {@link BadRequestException}, which the CLI reports as one line); nothing else
 * escapes, nothing hangs.
 */
class LoraFuzzTest {
    private static final int RUNS = 300;

    @Test
    void mutatedLorasMergeOrAreRefused(@TempDir Path dir) throws Exception {
        byte[] original = Files.readAllBytes(Fixtures.path("lora/sd1_tiny_lora.safetensors"));
        long headerLen = ByteBuffer.wrap(original, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ModelConfig c = ModelConfig.fromYaml(Fixtures.path("sd1-tiny/config.yaml"));
        Random random = new Random(20261203);
        int refused = 0;
        try (SafetensorsFile base = Fixtures.open("sd1-tiny/model.safetensors")) {
            for (int run = 0; run < RUNS; run++) {
                byte[] bytes = mutate(original, headerLen, random);
                Path file = dir.resolve("lora" + run + ".safetensors");
                Files.write(file, bytes);
                try (PointerScope scope = new PointerScope(); InferenceMode g = new InferenceMode()) {
                    LoraPatch patch = new LoraPatch(List.of(new LoraPatch.Applied(LoraFile.read(file, "fuzz"), 0.8, 0.8)));
                    ParameterSource src = patch.apply(new CheckpointSource(base), c);
                    for (String key : List.of("model.diffusion_model.input_blocks.1.1.proj_in.weight",
                            "model.diffusion_model.input_blocks.1.0.in_layers.2.weight",
                            "cond_stage_model.transformer.text_model.encoder.layers.0.mlp.fc1.weight")) {
                        src.get(key, base.info(key).shape());
                    }
                } catch (BadRequestException | ModelFileException e) {
                    refused++;
                    assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "an error without a message");
                } finally {
                    Files.delete(file);
                }
            }
        }
        assertTrue(refused > RUNS / 10 && refused < RUNS, "refused " + refused + " of " + RUNS);
    }

    private static byte[] mutate(byte[] original, long headerLen, Random random) {
        byte[] b = original.clone();
        switch (random.nextInt(5)) {
            case 0 -> { // a few bytes of the JSON header
                for (int i = 0; i < 1 + random.nextInt(4); i++) {
                    b[8 + random.nextInt((int) headerLen)] = (byte) random.nextInt(256);
                }
            }
            case 1 -> { // the data: any values must merge (NaN included: the run's NaN check catches those)
                for (int i = 0; i < 16; i++) {
                    b[(int) (8 + headerLen + random.nextInt((int) (b.length - 8 - headerLen)))] = (byte) random.nextInt(256);
                }
            }
            case 2 -> { // cut short
                b = java.util.Arrays.copyOf(b, random.nextInt(b.length));
            }
            case 3 -> { // a digit of the header changed: shapes and offsets
                String h = new String(b, 8, (int) headerLen, java.nio.charset.StandardCharsets.ISO_8859_1);
                int at = random.nextInt(h.length());
                for (int i = at; i < h.length(); i++) {
                    if (Character.isDigit(h.charAt(i))) {
                        b[8 + i] = (byte) ('0' + random.nextInt(10));
                        break;
                    }
                }
            }
            default -> { // a module name edited: it then names no weight, or half a module is left
                String h = new String(b, 8, (int) headerLen, java.nio.charset.StandardCharsets.ISO_8859_1);
                int at = h.indexOf("lora_up", random.nextInt(h.length()));
                if (at > 0) {
                    b[8 + at] = (byte) 'X';
                }
            }
        }
        return b;
    }
}
