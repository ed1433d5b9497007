package dev.ldm4j.vae;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.Fixtures;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.io.TensorInfo;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Weights;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@org.junit.jupiter.api.extension.ExtendWith(dev.ldm4j.BothGradModes.class)
@org.junit.jupiter.api.Tag("golden")
class TaesdTest {
    private static final String FOLDER = "taesd";

    private static Tensor caseInput(String id, String name) {
        JsonNode in = Fixtures.caseOf(FOLDER, id).path("inputs").path(name);
        String file = in.has("file") ? in.get("file").asText() : Fixtures.caseOf(FOLDER, id).get("file").asText();
        String key = in.has("name") ? in.get("name").asText() : name;
        try (SafetensorsFile f = Fixtures.open(FOLDER + "/" + file)) {
            return Tensors.readFloat(f, key);
        }
    }

    private static Tensor caseOutput(String id, String name) {
        try (SafetensorsFile f = Fixtures.open(FOLDER + "/" + Fixtures.caseOf(FOLDER, id).get("file").asText())) {
            return Tensors.read(f, name);
        }
    }

    private static void checkEncoder(String id, TaesdEncoder encoder) {
        Tensor latent = encoder.encode(caseInput(id, "image"));
        assertClose(caseOutput(id, "latent"), latent, Fixtures.tolerance(FOLDER, id, "latent"), id);
    }

    private static void checkDecoder(String id, TaesdDecoder decoder) {
        Tensor decoded = decoder.decode(caseInput(id, "latent"));
        assertClose(caseOutput(id, "decoded"), decoded, Fixtures.tolerance(FOLDER, id, "decoded"), id);
    }

    @Test
    void taesdEncode() {
        try (SafetensorsFile f = Fixtures.open(FOLDER + "/taesd_encoder.safetensors")) {
            checkEncoder("taesd_encode", new TaesdEncoder(Weights.of(new CheckpointSource(f)), 4, false));
        }
    }

    @Test
    void taesdDecode() {
        try (SafetensorsFile f = Fixtures.open(FOLDER + "/taesd_decoder.safetensors")) {
            checkDecoder("taesd_decode", new TaesdDecoder(Weights.of(new CheckpointSource(f)), 4, false));
        }
    }

    /** FLUX.2 TAESD: 32 latent channels and the GroupNorm branch in the mid blocks, found from the file alone. */
    @Test
    void taef2EncodeWithDetectedVariant() {
        TaesdEncoder encoder = TaesdFiles.encoder(Fixtures.path(FOLDER + "/taef2_encoder.safetensors"));
        assertEquals(new TaesdVariant(32, true), encoder.variant());
        checkEncoder("taef2_encode", encoder);
    }

    @Test
    void taef2DecodeWithDetectedVariant() {
        TaesdDecoder decoder = TaesdFiles.decoder(Fixtures.path(FOLDER + "/taef2_decoder.safetensors"));
        assertEquals(new TaesdVariant(32, true), decoder.variant());
        checkDecoder("taef2_decode", decoder);
    }

    @Test
    void detectsWhatEachFileHolds() {
        try (SafetensorsFile enc = Fixtures.open(FOLDER + "/taesd_encoder.safetensors");
             SafetensorsFile dec = Fixtures.open(FOLDER + "/taesd_decoder.safetensors")) {
            assertEquals(TaesdVariant.SD, TaesdFiles.encoderVariant(enc).orElseThrow());
            assertEquals(TaesdVariant.SD, TaesdFiles.decoderVariant(dec).orElseThrow());
            assertFalse(TaesdFiles.decoderVariant(enc).isPresent());
            assertFalse(TaesdFiles.encoderVariant(dec).isPresent());
            ModelFileException e = assertThrows(ModelFileException.class, () -> TaesdFiles.decoder(enc));
            assertTrue(e.getMessage().contains("no TAESD decoder"), e.getMessage());
        }
        try (SafetensorsFile ckpt = Fixtures.open("sd1-tiny/model.safetensors")) {
            assertFalse(TaesdFiles.decoderVariant(ckpt).isPresent());
            assertFalse(TaesdFiles.encoderVariant(ckpt).isPresent());
        }
    }

    @Test
    void aMissingKeyIsNamed() {
        try (SafetensorsFile f = Fixtures.open(FOLDER + "/taesd_decoder.safetensors")) {
            ModelFileException e = assertThrows(ModelFileException.class,
                    () -> new TaesdDecoder(Weights.of(new CheckpointSource(f)), 4, true));
            assertTrue(e.getMessage().contains("'3.pool.0.weight'"), e.getMessage());
        }
    }

    /**
     * diffusers' AutoencoderTiny file (the one stable-diffusion.cpp's --taesd takes) stores the same weights
     * as encoder.layers.N / decoder.layers.(N - 1): rewrite the fixture files into that layout and check the
     * golden outputs still come out.
     */
    @Test
    void readsTheDiffusersLayout(@TempDir Path dir) throws IOException {
        Path combined = dir.resolve("diffusion_pytorch_model.safetensors");
        try (SafetensorsFile enc = Fixtures.open(FOLDER + "/taef2_encoder.safetensors");
             SafetensorsFile dec = Fixtures.open(FOLDER + "/taef2_decoder.safetensors")) {
            Map<String, Source> entries = new LinkedHashMap<>();
            rename(enc, k -> "encoder.layers." + k, entries);
            rename(dec, k -> {
                int dot = k.indexOf('.');
                return "decoder.layers." + (Integer.parseInt(k.substring(0, dot)) - 1) + k.substring(dot);
            }, entries);
            write(combined, entries);
        }
        try (SafetensorsFile f = SafetensorsFile.open(combined)) {
            assertEquals(new TaesdVariant(32, true), TaesdFiles.encoderVariant(f).orElseThrow());
            assertEquals(new TaesdVariant(32, true), TaesdFiles.decoderVariant(f).orElseThrow());
        }
        checkEncoder("taef2_encode", TaesdFiles.encoder(combined));
        checkDecoder("taef2_decode", TaesdFiles.decoder(combined));
    }

    private record Source(SafetensorsFile file, String key) {}

    private static void rename(SafetensorsFile f, UnaryOperator<String> to, Map<String, Source> out) {
        for (String k : f.keys()) {
            out.put(to.apply(k), new Source(f, k));
        }
    }

    /** A minimal safetensors writer (the io package's writer is not on this branch). */
    private static void write(Path path, Map<String, Source> entries) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        long offset = 0;
        for (Map.Entry<String, Source> e : entries.entrySet()) {
            TensorInfo info = e.getValue().file().info(e.getValue().key());
            header.put(e.getKey(), Map.of("dtype", info.dtype().name(), "shape", info.shape(),
                    "data_offsets", new long[] {offset, offset + info.byteSize()}));
            offset += info.byteSize();
        }
        StringBuilder json = new StringBuilder(new ObjectMapper().writeValueAsString(header));
        while (json.length() % 8 != 0) {
            json.append(' ');
        }
        byte[] h = json.toString().getBytes(StandardCharsets.UTF_8);
        try (OutputStream os = Files.newOutputStream(path); WritableByteChannel ch = Channels.newChannel(os)) {
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).flip());
            ch.write(ByteBuffer.wrap(h));
            for (Source s : entries.values()) {
                ch.write(s.file().bytes(s.key()));
            }
        }
    }
}
