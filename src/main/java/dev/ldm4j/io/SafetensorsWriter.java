package dev.ldm4j.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes {@code .safetensors} files: 8-byte little-endian header length, a JSON header padded with spaces to a
 * multiple of 8, then the tensors' raw bytes back to back. The file appears atomically ({@link AtomicFiles}),
 * so a crash or an exception never leaves a half-written file behind. It deals in bytes only; libtorch
 * tensors are written through {@code nn.Tensors.write}, which hands their memory to it.
 *
 * <p>The header lists the tensors in the caller's map order; the data section orders them by element size
 * (largest first, otherwise as given) so that every tensor starts at an offset aligned to its element size,
 * with no gaps (the reference reader rejects gaps).
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNK = 1 << 20;

    private SafetensorsWriter() {}

    /**
     * One tensor to write: its element type, shape and raw little-endian row-major bytes (from the buffer's
     * position to its limit; the buffer itself is not moved).
     */
    public record Entry(DType dtype, long[] shape, ByteBuffer data) {
        public Entry {
            if (dtype == null || shape == null || data == null) {
                throw new IllegalArgumentException("dtype, shape and data are required");
            }
            shape = shape.clone();
            long numel = 1;
            for (long d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
                }
                numel = Math.multiplyExact(numel, d);
            }
            long need = Math.multiplyExact(numel, dtype.byteSize());
            if (data.remaining() != need) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + dtype + " needs "
                        + need + " bytes, got " + data.remaining());
            }
            data = data.slice();
        }

        public static Entry of(DType dtype, long[] shape, byte[] data) {
            return new Entry(dtype, shape, ByteBuffer.wrap(data));
        }

        public static Entry ofFloats(long[] shape, float... values) {
            ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(values);
            return new Entry(DType.F32, shape, b);
        }

        public static Entry ofLongs(long[] shape, long... values) {
            ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            b.asLongBuffer().put(values);
            return new Entry(DType.I64, shape, b);
        }

        public long byteSize() {
            return data.remaining();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }
    }

    public static void write(Path path, Map<String, Entry> tensors) {
        write(path, tensors, Map.of());
    }

    /**
     * Writes the tensors (in map order in the header) and the optional {@code __metadata__} string map
     * (omitted from the header when empty).
     *
     * @throws IllegalArgumentException for a reserved or empty tensor name
     * @throws OutputFileException      when the file cannot be written (the message names it)
     */
    public static void write(Path path, Map<String, Entry> tensors, Map<String, String> metadata) {
        List<String> layout = new ArrayList<>(tensors.keySet());
        for (String name : layout) {
            if (name == null || name.isEmpty() || name.equals("__metadata__")) {
                throw new IllegalArgumentException("invalid tensor name '" + name + "' for " + path);
            }
        }
        layout.sort(Comparator.comparingInt((String n) -> tensors.get(n).dtype().byteSize()).reversed());
        Map<String, long[]> offsets = new LinkedHashMap<>();
        long pos = 0;
        for (String name : layout) {
            long size = tensors.get(name).byteSize();
            offsets.put(name, new long[] {pos, pos + size});
            pos += size;
        }
        byte[] header = header(tensors, offsets, metadata);
        AtomicFiles.write(path, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
            out.write(len.array());
            out.write(header);
            for (String name : layout) {
                copy(tensors.get(name).data(), out);
            }
        });
    }

    /**
     * Writes every tensor of {@code source} unchanged (names in its order, dtypes, shapes, bytes) with its
     * metadata: how a PyTorch checkpoint becomes a safetensors file. The tensors are memory-mapped for the
     * copy, not read into the heap, and unmapped when it is done.
     *
     * @throws OutputFileException when the file cannot be written (the message names it)
     */
    public static void write(Path path, SafetensorsFile source) {
        Map<String, Entry> entries = new LinkedHashMap<>();
        List<ByteBuffer> mapped = new ArrayList<>();
        try {
            for (String name : source.keys()) {
                TensorInfo t = source.info(name);
                ByteBuffer bytes = source.bytes(name);
                mapped.add(bytes);
                entries.put(name, new Entry(t.dtype(), t.shape(), bytes));
            }
            write(path, entries, source.metadata());
        } finally {
            mapped.forEach(Unmapper::unmap);
        }
    }

    private static byte[] header(Map<String, Entry> tensors, Map<String, long[]> offsets,
                                 Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = root.putObject("__metadata__");
            metadata.forEach((k, v) -> {
                if (k == null || v == null) {
                    throw new IllegalArgumentException("null metadata key or value: " + k + " = " + v);
                }
                meta.put(k, v);
            });
        }
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            ObjectNode t = root.putObject(e.getKey());
            t.put("dtype", e.getValue().dtype().name());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.getValue().shape) {
                shape.add(d);
            }
            long[] off = offsets.get(e.getKey());
            t.putArray("data_offsets").add(off[0]).add(off[1]);
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode a safetensors header", e);
        }
        // pad with spaces so the data section starts 8-byte aligned
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }

    private static void copy(ByteBuffer data, OutputStream out) throws IOException {
        ByteBuffer src = data.duplicate();
        if (src.hasArray()) {
            out.write(src.array(), src.arrayOffset() + src.position(), src.remaining());
            return;
        }
        byte[] chunk = new byte[(int) Math.min(CHUNK, src.remaining())];
        while (src.hasRemaining()) {
            int n = Math.min(chunk.length, src.remaining());
            src.get(chunk, 0, n);
            out.write(chunk, 0, n);
        }
    }
}
