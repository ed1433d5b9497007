package dev.ldm4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.io.SafetensorsFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a tensor into another dtype straight from the file's pages gives what read-then-convert gives. */
class TensorsReadTest {
    private static final List<ScalarType> TYPES = List.of(ScalarType.Float, ScalarType.Half, ScalarType.BFloat16);

    @TempDir
    Path tmp;

    @Test
    void convertingReadEqualsReadThenConvertBitForBit() throws IOException {
        Torch.load();
        Path file = tmp.resolve("mixed.safetensors");
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(3);
            Map<String, Tensor> stored = new LinkedHashMap<>();
            for (ScalarType t : TYPES) {
                // values from tiny to large, so that every conversion rounds somewhere
                stored.put(t.name(), torch.randn(5, 7, 3).mul(Ops.s(300)).exp().mul(torch.randn(5, 7, 3)).to(t));
            }
            Tensors.write(file, stored);
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                for (ScalarType from : TYPES) {
                    for (ScalarType to : TYPES) {
                        Tensor expected = Tensors.read(f, from.name()).to(to);
                        Tensor got = Tensors.read(f, from.name(), to);
                        assertEquals(to, Tensors.scalarType(got), from + " -> " + to);
                        assertTrue(torch.equal(expected, got), from + " -> " + to);
                    }
                }
            }
        }
        assertFalse(Files.readString(Path.of("/proc/self/maps")).contains(file.toString()),
                "every mapping of the file is gone once the reads returned");
    }

    @Test
    void anElementOffItsAlignmentIsReadIntoPlace() throws IOException {
        Torch.load();
        // a header of odd length puts the fp16 data at an odd address; the format allows it
        String header = "{\"a\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]}} ";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        assertEquals(1, json.length % 2);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + 6).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        b.putShort((short) 0x3C00).putShort((short) 0xC000).putShort((short) 0x3800); // 1, -2, 0.5 in fp16
        Path file = tmp.resolve("odd.safetensors");
        Files.write(file, b.array());
        try (PointerScope scope = new PointerScope(); SafetensorsFile f = SafetensorsFile.open(file)) {
            Tensor got = Tensors.read(f, "a", ScalarType.Float);
            assertEquals(List.of(1.0f, -2.0f, 0.5f), List.of(Tensors.toFloats(got)[0], Tensors.toFloats(got)[1],
                    Tensors.toFloats(got)[2]));
        }
    }
}
