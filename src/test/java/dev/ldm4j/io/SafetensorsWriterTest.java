package dev.ldm4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.Fixtures;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.sampling.SeededNoise;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsBytesShapesDtypesAndMetadata() throws IOException {
        Random rnd = new Random(3);
        Map<String, SafetensorsWriter.Entry> in = new LinkedHashMap<>();
        in.put("odd.u8", entry(rnd, DType.U8, 3));             // 3 bytes: would misalign what follows
        in.put("half", entry(rnd, DType.F16, 5, 3));
        in.put("weights.f32", entry(rnd, DType.F32, 2, 3, 4));
        in.put("bf", entry(rnd, DType.BF16, 7));
        in.put("ids", entry(rnd, DType.I64, 1, 77));
        in.put("scalar", entry(rnd, DType.F32));                // 0-dim
        in.put("empty", entry(rnd, DType.F32, 0, 8));
        in.put("ünï/cödé", entry(rnd, DType.I32, 2));
        Map<String, String> meta = Map.of("format", "pt", "prompt", "a cat, 猫\n\"quoted\"");
        Path p = dir.resolve("out.safetensors");
        SafetensorsWriter.write(p, in, meta);

        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.copyOf(in.keySet()), List.copyOf(f.keys()), "header keeps the caller's order");
            assertEquals(meta, f.metadata());
            for (Map.Entry<String, SafetensorsWriter.Entry> e : in.entrySet()) {
                TensorInfo info = f.info(e.getKey());
                assertEquals(e.getValue().dtype(), info.dtype(), e.getKey());
                assertArrayEquals(e.getValue().shape(), info.shape(), e.getKey());
                assertEquals(0, info.begin() % info.dtype().byteSize(), e.getKey() + " is misaligned");
                assertEquals(e.getValue().data(), f.bytes(e.getKey()), e.getKey() + " bytes differ");
            }
        }
        checkLayout(p);
    }

    @Test
    void noMetadataMeansNoMetadataEntry() throws IOException {
        Path p = dir.resolve("plain.safetensors");
        SafetensorsWriter.write(p, Map.of("x", SafetensorsWriter.Entry.ofFloats(new long[] {2}, 1f, 2f)));
        assertFalse(headerJson(p).has("__metadata__"));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new float[] {1f, 2f}, Tensors.toFloats(Tensors.read(f, "x")));
        }
        checkLayout(p);
    }

    @Test
    void torchTensorsRoundTripBitExact() throws IOException {
        Map<String, Tensor> in = new LinkedHashMap<>();
        try (SeededNoise noise = new SeededNoise(5)) {
            Tensor f32 = noise.randn(2, 3, 5);
            in.put("f32", f32);
            in.put("f16", noise.randn(4, 9).to(ScalarType.Half));
            in.put("bf16", noise.randn(3, 3).to(ScalarType.BFloat16));
            in.put("transposed", f32.transpose(1, 2));          // not contiguous
            in.put("narrowed", f32.narrow(2, 1, 3));             // an offset view
        }
        in.put("i64", Tensors.fromLongs(new long[] {-1, 0, 1L << 50, 42}, 2, 2));
        in.put("scalar", Tensors.fromFloats(new float[] {0.18215f}));
        Path p = dir.resolve("torch.safetensors");
        Tensors.write(p, in, Map.of("format", "pt"));

        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.copyOf(in.keySet()), List.copyOf(f.keys()));
            for (Map.Entry<String, Tensor> e : in.entrySet()) {
                Tensor expected = e.getValue();
                Tensor actual = Tensors.read(f, e.getKey());
                assertEquals(expected.scalar_type().intern(), actual.scalar_type().intern(), e.getKey());
                assertArrayEquals(Tensors.shape(expected), Tensors.shape(actual), e.getKey());
                assertArrayEquals(rawBytes(expected), rawBytes(actual), e.getKey() + ": not bit-exact");
            }
            assertEquals(DType.F16, f.info("f16").dtype());
            assertEquals(DType.BF16, f.info("bf16").dtype());
            assertEquals(DType.I64, f.info("i64").dtype());
            assertEquals(0, f.info("scalar").shape().length);
        }
        checkLayout(p);
    }

    @Test
    void fixtureCheckpointRewritesIdentically() throws IOException {
        // F16 + F32 + a 0-dim tensor, as stored by the reference tooling
        Path copy = dir.resolve("sd2.safetensors");
        try (SafetensorsFile f = Fixtures.open("sd2-tiny/model.safetensors")) {
            Map<String, SafetensorsWriter.Entry> entries = new LinkedHashMap<>();
            for (String k : f.keys()) {
                TensorInfo info = f.info(k);
                entries.put(k, new SafetensorsWriter.Entry(info.dtype(), info.shape(), f.bytes(k)));
            }
            SafetensorsWriter.write(copy, entries, f.metadata());
            try (SafetensorsFile g = SafetensorsFile.open(copy)) {
                assertEquals(f.keys(), g.keys());
                assertEquals(f.metadata(), g.metadata());
                for (String k : f.keys()) {
                    assertEquals(f.bytes(k), g.bytes(k), k);
                }
            }
        }
        checkLayout(copy);
    }

    @Test
    void replacesAnExistingFileAndLeavesNoTemporaryFiles() throws IOException {
        Path p = dir.resolve("model.safetensors");
        Files.writeString(p, "old");
        SafetensorsWriter.write(p, Map.of("a", SafetensorsWriter.Entry.ofLongs(new long[] {1}, 7)));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new long[] {7}, Tensors.toLongs(Tensors.read(f, "a")));
        }
        assertEquals(List.of(p), list(dir));
    }

    @Test
    void failureInTheMiddleLeavesTheOldFileAndNoDebris() throws IOException {
        Path p = dir.resolve("keep.safetensors");
        Files.writeString(p, "previous content");
        RuntimeException boom = new RuntimeException("boom");
        RuntimeException thrown = assertThrows(RuntimeException.class, () -> AtomicFiles.write(p, out -> {
            out.write(new byte[100_000]);
            throw boom;
        }));
        assertTrue(thrown == boom);
        assertEquals("previous content", Files.readString(p));
        assertEquals(List.of(p), list(dir));

        Path fresh = dir.resolve("fresh.safetensors");
        OutputFileException io = assertThrows(OutputFileException.class, () -> AtomicFiles.write(fresh, out -> {
            out.write(1);
            throw new IOException("disk full");
        }));
        assertTrue(io.getMessage().contains(fresh.toString()) && io.getMessage().contains("disk full"),
                io.getMessage());
        assertFalse(Files.exists(fresh));
        assertEquals(List.of(p), list(dir));
    }

    @Test
    void invalidEntriesFailBeforeAnythingIsWritten() {
        assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.Entry.of(DType.F32, new long[] {2, 2}, new byte[12]));
        assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.Entry.of(DType.F32, new long[] {-1}, new byte[0]));
        Path p = dir.resolve("bad.safetensors");
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(p,
                Map.of("__metadata__", SafetensorsWriter.Entry.ofFloats(new long[] {1}, 1f))));
        assertFalse(Files.exists(p));
    }

    @Test
    void unwritableLocationsGiveOneClearMessage() throws IOException {
        SafetensorsWriter.Entry e = SafetensorsWriter.Entry.ofFloats(new long[] {1}, 1f);
        Path missing = dir.resolve("no/such/dir/x.safetensors");
        assertWriteFails(missing, e, "does not exist");
        Path file = Files.writeString(dir.resolve("afile"), "x");
        assertWriteFails(file.resolve("x.safetensors"), e, "is not a directory");
        assertWriteFails(dir, e, "is a directory");
    }

    @Test
    void readOnlyDirectory() throws IOException {
        Path ro = Files.createDirectory(dir.resolve("ro"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            Assumptions.assumeFalse(Files.isWritable(ro), "running as root: permissions are not enforced");
            assertWriteFails(ro.resolve("x.safetensors"), SafetensorsWriter.Entry.ofFloats(new long[] {1}, 1f),
                    "permission denied");
        } finally {
            Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    // ------------------------------------------------------------------ helpers

    private static void assertWriteFails(Path p, SafetensorsWriter.Entry e, String fragment) {
        OutputFileException ex = assertThrows(OutputFileException.class,
                () -> SafetensorsWriter.write(p, Map.of("a", e)));
        assertTrue(ex.getMessage().contains(p.toString()), "message does not name the file: " + ex.getMessage());
        assertTrue(ex.getMessage().contains(fragment), "message lacks '" + fragment + "': " + ex.getMessage());
    }

    /** The format's invariants, checked on the raw bytes: padded header, contiguous data with no gaps. */
    private static void checkLayout(Path p) throws IOException {
        byte[] all = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header length " + n + " is not a multiple of 8");
        String header = new String(all, 8, (int) n, StandardCharsets.UTF_8);
        String json = header.stripTrailing();
        assertTrue(json.endsWith("}"));
        assertTrue(header.substring(json.length()).chars().allMatch(c -> c == ' '), "padding is not spaces");
        JsonNode root = new ObjectMapper().readTree(json);
        long dataLen = all.length - 8 - n;
        long covered = 0;
        List<long[]> ranges = new java.util.ArrayList<>();
        for (var it = root.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getKey().equals("__metadata__")) {
                JsonNode o = e.getValue().get("data_offsets");
                ranges.add(new long[] {o.get(0).asLong(), o.get(1).asLong()});
            }
        }
        ranges.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        for (long[] r : ranges) {
            assertEquals(covered, r[0], "gap or overlap in the data section");
            covered = r[1];
        }
        assertEquals(dataLen, covered, "data section is not exactly covered");
    }

    private static JsonNode headerJson(Path p) throws IOException {
        byte[] all = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return new ObjectMapper().readTree(new String(all, 8, (int) n, StandardCharsets.UTF_8));
    }

    private static SafetensorsWriter.Entry entry(Random rnd, DType dtype, long... shape) {
        long numel = 1;
        for (long s : shape) {
            numel *= s;
        }
        byte[] data = new byte[(int) numel * dtype.byteSize()];
        rnd.nextBytes(data);
        return SafetensorsWriter.Entry.of(dtype, shape, data);
    }

    private static byte[] rawBytes(Tensor t) {
        Tensor c = t.contiguous();
        byte[] out = new byte[(int) c.nbytes()];
        new BytePointer(c.data_ptr()).get(out);
        return out;
    }

    private static List<Path> list(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.sorted().toList();
        }
    }
}
