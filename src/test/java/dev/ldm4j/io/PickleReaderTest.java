package dev.ldm4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hand-made pickles and checkpoints for what the fixtures do not hold. */
class PickleReaderTest {
    @TempDir
    Path dir;

    /** Pickle bytes written opcode by opcode. */
    private static final class Pickle {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Pickle op(int... bytes) {
            for (int b : bytes) {
                out.write(b);
            }
            return this;
        }

        Pickle str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X').le32(b.length);
            out.writeBytes(b);
            return this;
        }

        Pickle shortStr(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op(0x8c, b.length);
            out.writeBytes(b);
            return this;
        }

        Pickle global(String module, String name) {
            op('c');
            out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        Pickle le32(int v) {
            return op(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24));
        }

        Pickle int1(int v) {
            return op('K', v);
        }

        /** {@code _rebuild_tensor_v2(pid(storage key of FloatStorage, numel), offset, shape, stride, False, OrderedDict())}. */
        Pickle tensor(String key, int numel, int offset, int[] shape, int[] stride) {
            global("torch._utils", "_rebuild_tensor_v2").op('(');
            op('(').str("storage").global("torch", "FloatStorage").str(key).str("cpu").int1(numel).op('t', 'Q');
            int1(offset).op('(');
            for (int s : shape) {
                int1(s);
            }
            op('t', '(');
            for (int s : stride) {
                int1(s);
            }
            op('t', 0x89).global("collections", "OrderedDict").op(')', 'R', 't', 'R');
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    private Object read(byte[] pickle) throws IOException {
        Path p = Files.write(dir.resolve("p.pkl"), pickle);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            return PickleReader.read(p, new ByteReader(p, ch, 0, ch.size()), pid -> pid);
        }
    }

    private void assertRefused(byte[] pickle, String... parts) {
        ModelFileException e = assertThrows(ModelFileException.class, () -> read(pickle));
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), e.getMessage());
        }
    }

    @Test
    void protocolFourFramesMemoAndStackGlobal() throws IOException {
        byte[] p = new Pickle().op(0x80, 4, 0x95, 30, 0, 0, 0, 0, 0, 0, 0).op('}', 0x94)
                .shortStr("a").op(0x94).shortStr("collections").shortStr("OrderedDict").op(0x93, ')', 'R', 's')
                .shortStr("b").op('h', 1).op('s')
                .op('.').bytes();
        assertEquals(Map.of("a", Map.of(), "b", "a"), read(p));
    }

    @Test
    void numbers() throws IOException {
        byte[] p = new Pickle().op(0x80, 2, '(').op('J').le32(-5).op('M', 0x34, 0x12)
                .op(0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19)
                .op('G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0).op(0x88, 'N', 'l', '.').bytes();
        List<?> v = (List<?>) read(p);
        assertEquals(-5L, v.get(0));
        assertEquals(0x1234L, v.get(1));
        assertEquals(new BigInteger("1950a86a20f9469cfc6c", 16), v.get(2));
        assertEquals(1.5, v.get(3));
        assertEquals(Boolean.TRUE, v.get(4));
        assertEquals(null, v.get(5));
    }

    @Test
    void globalsOutsideTheAllowListAreRefusedByName() {
        assertRefused(new Pickle().op(0x80, 4).shortStr("os").shortStr("system").op(0x93, '.').bytes(), "'os.system'");
        assertRefused(new Pickle().op(0x80, 2).global("subprocess", "Popen").op('.').bytes(), "'subprocess.Popen'");
        assertRefused(new Pickle().op(0x80, 2).global("torch.storage", "_load_from_bytes").op('.').bytes(),
                "'torch.storage._load_from_bytes'");
        assertRefused(new Pickle().op(0x80, 2).global("torch", "load").op('.').bytes(), "'torch.load'");
    }

    @Test
    void placeholdersAreNeverCalled() throws IOException {
        String module = "pytorch_lightning.callbacks.model_checkpoint";
        Object key = ((Map<?, ?>) read(new Pickle().op(0x80, 2, '}').global(module, "ModelCheckpoint")
                .op('}', 's', '.').bytes())).keySet().iterator().next();
        assertEquals(module + ".ModelCheckpoint", key.toString());
        assertRefused(new Pickle().op(0x80, 2).global(module, "ModelCheckpoint").op(')', 'R', '.').bytes(),
                "calls", "ModelCheckpoint");
        assertRefused(new Pickle().op(0x80, 2).global("torch", "FloatStorage").op(')', 0x81, '.').bytes(),
                "calls", "torch.FloatStorage");
    }

    @Test
    void corruptStreamsFailAsModelFileErrors() {
        assertRefused(new byte[] {(byte) 0x80, 2}, "truncated");
        assertRefused(new byte[] {(byte) 0x80, 2, '.'}, "stack is empty");
        assertRefused(new byte[] {(byte) 0x80, 2, 'h', 7, '.'}, "memo entry 7");
        assertRefused(new byte[] {(byte) 0x80, 2, 'X', -1, -1, -1, 0x7f}, "a value of 2147483647 bytes");
        assertRefused(new byte[] {(byte) 0x80, 2, 'X', 9, 0, 0, 0, 'a'}, "truncated");
        assertRefused(new byte[] {(byte) 0x80, 2, 'a', '.'}, "stack");
        assertRefused(new byte[] {(byte) 0x80, 2, (byte) 0x8d, 0, 0, 0, 0x40, 0, 0, 0, 0, '.'}, "a value of 1073741824 bytes");
        assertRefused(new byte[] {(byte) 0x80, 2, 0x82 - 256, 1, '.'}, "extension registry");
        // a list that holds itself, used as a dict key: unhashable, not a stack overflow
        assertRefused(new Pickle().op(0x80, 2, '}', ']', 'q', 0, 'h', 0, 'a', 'N', 's', '.').bytes(),
                "dict key", "list");
    }

    @Test
    void zipCheckpointTensorsAreFileRanges() throws IOException {
        byte[] pkl = new Pickle().op(0x80, 2, '}').str("w").tensor("0", 6, 2, new int[] {2, 2}, new int[] {2, 1})
                .op('s', '.').bytes();
        ByteBuffer floats = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) {
            floats.putFloat(i);
        }
        Path p = zip("ok.ckpt", Map.of("archive/data.pkl", pkl, "archive/data/0", floats.array()));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            TensorInfo w = f.info("w");
            assertEquals(DType.F32, w.dtype());
            assertArrayEquals(new long[] {2, 2}, w.shape());
            ByteBuffer b = f.bytes("w");
            assertEquals(2f, b.getFloat(0));
            assertEquals(5f, b.getFloat(12));
        }
    }

    @Test
    void nonContiguousAndOutOfStorageTensorsAreRefusedByName() throws IOException {
        byte[] transposed = new Pickle().op(0x80, 2, '}').str("w").tensor("0", 4, 0, new int[] {2, 2}, new int[] {1, 2})
                .op('s', '.').bytes();
        Path p = zip("t.ckpt", Map.of("archive/data.pkl", transposed, "archive/data/0", new byte[16]));
        ModelFileException e = assertThrows(ModelFileException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("not contiguous"), e.getMessage());
        byte[] past = new Pickle().op(0x80, 2, '}').str("w").tensor("0", 4, 1, new int[] {4}, new int[] {1})
                .op('s', '.').bytes();
        Path q = zip("past.ckpt", Map.of("archive/data.pkl", past, "archive/data/0", new byte[16]));
        e = assertThrows(ModelFileException.class, () -> SafetensorsFile.open(q));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("runs past"), e.getMessage());
    }

    @Test
    void entryNamesOutsideTheArchiveAreRefused() throws IOException {
        byte[] empty = new Pickle().op(0x80, 2, '}', '.').bytes();
        for (String bad : List.of("/etc/passwd", "archive\\..\\x", "archive/../../x", "C:/x")) {
            Path p = zip("slip.ckpt", Map.of("archive/data.pkl", empty, bad, new byte[1]));
            ModelFileException e = assertThrows(ModelFileException.class, () -> SafetensorsFile.open(p));
            assertTrue(e.getMessage().contains("points outside the archive"), e.getMessage());
        }
        try (SafetensorsFile f = SafetensorsFile.open(zip("empty.ckpt", Map.of("archive/data.pkl", empty)))) {
            assertEquals(0, f.keys().size());
        }
    }

    /** The ZIP64 forms (a checkpoint over 4 GB): sizes and offsets in the extra field and the ZIP64 end record. */
    @Test
    void zip64Checkpoint() throws IOException {
        byte[] pkl = new Pickle().op(0x80, 2, '}').str("w").tensor("0", 2, 0, new int[] {2}, new int[] {1})
                .op('s', '.').bytes();
        ByteBuffer floats = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f);
        Path p = Files.write(dir.resolve("z64.ckpt"), zip64(List.of("archive/data.pkl", "archive/data/0"),
                List.of(pkl, floats.array())));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(-2f, f.bytes("w").getFloat(4));
        }
    }

    /** A ZIP whose central directory gives every size and offset through ZIP64 fields, as one over 4 GB must. */
    private static byte[] zip64(List<String> names, List<byte[]> data) {
        ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        long[] offsets = new long[names.size()];
        for (int i = 0; i < names.size(); i++) {
            byte[] name = names.get(i).getBytes(StandardCharsets.UTF_8);
            offsets[i] = b.position();
            b.putInt(0x04034b50).putShort((short) 45).putShort((short) 0).putShort((short) 0).putInt(0).putInt(0)
                    .putInt(-1).putInt(-1).putShort((short) name.length).putShort((short) 0).put(name).put(data.get(i));
        }
        int cd = b.position();
        for (int i = 0; i < names.size(); i++) {
            byte[] name = names.get(i).getBytes(StandardCharsets.UTF_8);
            b.putInt(0x02014b50).putShort((short) 45).putShort((short) 45).putShort((short) 0).putShort((short) 0)
                    .putInt(0).putInt(0).putInt(-1).putInt(-1).putShort((short) name.length).putShort((short) 28)
                    .putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt(0).putInt(-1).put(name)
                    .putShort((short) 1).putShort((short) 24).putLong(data.get(i).length).putLong(data.get(i).length)
                    .putLong(offsets[i]);
        }
        int cdSize = b.position() - cd;
        int record = b.position();
        b.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                .putLong(names.size()).putLong(names.size()).putLong(cdSize).putLong(cd);
        b.putInt(0x07064b50).putInt(0).putLong(record).putInt(1);
        b.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) -1).putShort((short) -1)
                .putInt(-1).putInt(-1).putShort((short) 0);
        return Arrays.copyOf(b.array(), b.position());
    }

    /** A ZIP of STORED entries, as torch.save writes them. */
    private Path zip(String name, Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : new TreeMap<>(entries).entrySet()) {
                ZipEntry entry = new ZipEntry(e.getKey());
                entry.setMethod(ZipEntry.STORED);
                entry.setSize(e.getValue().length);
                CRC32 crc = new CRC32();
                crc.update(e.getValue());
                entry.setCrc(crc.getValue());
                z.putNextEntry(entry);
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return Files.write(dir.resolve(name), bytes.toByteArray());
    }
}
