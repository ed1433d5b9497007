package dev.ldm4j.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@code .safetensors} file opened for reading; a PyTorch {@code .ckpt}/{@code .pt} file (ZIP or legacy
 * pickle) opens as one too, read without running its pickle ({@link TorchCheckpoint}). The header is parsed and validated up front, so a broken
 * file fails at {@link #open} with a message naming the file and the problem, never later inside a model.
 * Tensor data is memory-mapped one tensor at a time (a single mapping is limited to 2 GiB).
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Refuse absurd headers before allocating them; real ones are well under a few MB (safetensors caps at 100 MB). */
    private static final long MAX_HEADER = 100L << 20;

    /** Strict JSON: a repeated tensor name is an error, not "last one wins". */
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    /** For a view over other files: where each tensor's bytes are (null for a plain file). */
    private final Map<String, Part> parts;
    private final List<SafetensorsFile> owned;

    /** A tensor of a view: the file that holds it and its name there. */
    public record Part(SafetensorsFile file, String key) {}

    /** A tensor of a view computed in memory (fused or split projections): little-endian bytes. */
    public record Memory(DType dtype, long[] shape, ByteBuffer data) {}

    private final Map<String, Memory> memory;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
                            Map<String, String> metadata) {
        this(path, channel, dataStart, tensors, metadata, null, List.of(), Map.of());
    }

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
                            Map<String, String> metadata, Map<String, Part> parts, List<SafetensorsFile> owned,
                            Map<String, Memory> memory) {
        this.parts = parts;
        this.memory = memory;
        this.owned = owned;
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) {
        InputFiles.problem(path).ifPresent(why -> {
            throw new ModelFileException(path + ": "
                    + (why.equals("is a directory") ? "is a directory, not a safetensors file" : why));
        });
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ModelFileException(path + ": no such file");
        } catch (AccessDeniedException e) {
            throw new ModelFileException(path + ": cannot open (permission denied)", e);
        } catch (IOException e) {
            throw new ModelFileException(path + ": cannot open (" + e.getMessage() + ")", e);
        }
        try {
            return parse(path, ch);
        } catch (RuntimeException | IOException e) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // the parse error is the one worth reporting
            }
            if (e instanceof ModelFileException m) {
                throw m;
            }
            throw new ModelFileException(path + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static SafetensorsFile parse(Path path, FileChannel ch) throws IOException {
        long size = ch.size();
        byte[] head = new byte[(int) Math.min(8, size)];
        readFully(ch, ByteBuffer.wrap(head), 0);
        if (!plausibleHeader(head, size)) {
            // a PyTorch .ckpt/.pt: its tensors are read where they lie, as ranges from the start of the file
            if (TorchCheckpoint.looksLikeZip(head)) {
                return ofRanges(path, ch, TorchCheckpoint.readZip(path, ch, size));
            }
            if (TorchCheckpoint.looksLikePickle(head)) {
                return ofRanges(path, ch, TorchCheckpoint.readLegacy(path, ch, size));
            }
        }
        if (size < 8) {
            throw new ModelFileException(path + ": not a safetensors file (only " + size
                    + " bytes, less than the 8-byte header length)");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        lenBuf.flip();
        long headerLen = lenBuf.getLong(0);
        if (headerLen <= 1 || headerLen > MAX_HEADER) {
            throw new ModelFileException(path + ": not a safetensors file (" + describeStart(lenBuf)
                    + "; header length " + Long.toUnsignedString(headerLen) + " is implausible)");
        }
        if (8 + headerLen > size) {
            throw new ModelFileException(path + ": truncated or not a safetensors file: header of " + headerLen
                    + " bytes but the file has only " + size + " bytes");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        readFully(ch, hb, 8);
        JsonNode root = parseHeader(path, hb.array());
        long dataStart = 8 + headerLen;
        long dataLen = size - dataStart;
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                parseMetadata(path, v, metadata);
                continue;
            }
            tensors.put(name, parseEntry(path, name, v, dataLen));
        }
        checkOverlaps(path, tensors);
        return new SafetensorsFile(path, ch, dataStart, Collections.unmodifiableMap(tensors),
                Collections.unmodifiableMap(metadata));
    }

    /**
     * Whether the first bytes can be a safetensors header length: only then is the file read as one, so a
     * safetensors file whose length happens to start like a ZIP or a pickle is still read as before.
     */
    private static boolean plausibleHeader(byte[] head, long size) {
        if (head.length < 8) {
            return false;
        }
        long headerLen = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        return headerLen > 1 && headerLen <= MAX_HEADER && 8 + headerLen <= size;
    }

    /**
     * A file whose tensors are given as absolute byte ranges (a PyTorch checkpoint's): the data section starts
     * at byte 0, there is no metadata, and views of one storage may share bytes.
     */
    static SafetensorsFile ofRanges(Path path, FileChannel ch, Map<String, TensorInfo> tensors) {
        return new SafetensorsFile(path, ch, 0, Collections.unmodifiableMap(new LinkedHashMap<>(tensors)), Map.of());
    }

    /**
     * One file made of tensors of others, under new names and (same number of elements) new shapes: a diffusers
     * folder read in the single-file layout. The view owns {@code files} and closes them with itself.
     *
     * @param shapes the new shape of each name, or none where the part's shape stands
     */
    public static SafetensorsFile view(Path path, Map<String, Part> parts, Map<String, long[]> shapes,
                                       List<SafetensorsFile> files) {
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Part> e : parts.entrySet()) {
            TensorInfo t = e.getValue().file().info(e.getValue().key());
            long[] shape = shapes.getOrDefault(e.getKey(), t.shape());
            TensorInfo renamed = new TensorInfo(e.getKey(), t.dtype(), shape, t.begin(), t.end());
            if (renamed.numel() != t.numel()) {
                throw new IllegalArgumentException(e.getKey() + ": shape " + java.util.Arrays.toString(shape)
                        + " does not hold " + t);
            }
            tensors.put(e.getKey(), renamed);
        }
        return new SafetensorsFile(path, null, 0, Collections.unmodifiableMap(tensors), Map.of(),
                Map.copyOf(parts), List.copyOf(files), Map.of());
    }

    /** {@link #view} with tensors computed in memory besides those read from files. */
    public static SafetensorsFile view(Path path, Map<String, Part> parts, Map<String, long[]> shapes,
                                       Map<String, Memory> memory, List<SafetensorsFile> files) {
        SafetensorsFile v = view(path, parts, shapes, files);
        Map<String, TensorInfo> tensors = new LinkedHashMap<>(v.tensors);
        for (Map.Entry<String, Memory> e : memory.entrySet()) {
            Memory m = e.getValue();
            TensorInfo t = new TensorInfo(e.getKey(), m.dtype(), m.shape(), 0, m.data().remaining());
            if (t.numel() * m.dtype().byteSize() != t.byteSize() || tensors.containsKey(e.getKey())) {
                throw new IllegalArgumentException(e.getKey() + ": " + t + " with " + t.byteSize() + " bytes");
            }
            tensors.put(e.getKey(), t);
        }
        return new SafetensorsFile(path, null, 0, Collections.unmodifiableMap(tensors), Map.of(), v.parts, v.owned,
                Map.copyOf(memory));
    }

    private static JsonNode parseHeader(Path path, byte[] header) {
        String json;
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(header));
            json = chars.toString();
        } catch (CharacterCodingException e) {
            throw new ModelFileException(path + ": not a safetensors file (header is not UTF-8 text)");
        }
        if (!json.startsWith("{")) {
            throw new ModelFileException(path + ": not a safetensors file (header is not a JSON object: starts with "
                    + quoteStart(json) + ")");
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new ModelFileException(path + ": corrupt safetensors header (not valid JSON: "
                    + e.getOriginalMessage() + ")");
        }
        if (root == null || !root.isObject()) {
            throw new ModelFileException(path + ": corrupt safetensors header (not a JSON object)");
        }
        return root;
    }

    private static void parseMetadata(Path path, JsonNode v, Map<String, String> into) {
        if (!v.isObject()) {
            throw new ModelFileException(path + ": corrupt safetensors header (__metadata__ is not a JSON object)");
        }
        // The format says string -> string; some writers put numbers there, which are kept as their JSON text.
        v.fields().forEachRemaining(m -> into.put(m.getKey(),
                m.getValue().isTextual() ? m.getValue().asText() : m.getValue().toString()));
    }

    private static TensorInfo parseEntry(Path path, String name, JsonNode v, long dataLen) {
        String where = path + ": tensor '" + name + "'";
        if (!v.isObject() || !v.has("dtype") || !v.has("shape") || !v.has("data_offsets")) {
            throw new ModelFileException(where + ": header entry lacks dtype, shape or data_offsets");
        }
        JsonNode dtypeNode = v.get("dtype");
        DType dtype = dtypeNode.isTextual() ? DType.parse(dtypeNode.asText()) : null;
        if (dtype == null) {
            throw new ModelFileException(where + ": unknown dtype " + dtypeNode
                    + " (supported: " + Arrays.toString(DType.values()) + ")");
        }
        long[] shape = parseShape(where, v.get("shape"));
        long numel = 1;
        for (long d : shape) {
            numel = multiplyOrFail(where, numel, d, shape);
        }
        long needed = multiplyOrFail(where, numel, dtype.byteSize(), shape);
        JsonNode offs = v.get("data_offsets");
        if (!offs.isArray() || offs.size() != 2 || !isWholeNumber(offs.get(0)) || !isWholeNumber(offs.get(1))) {
            throw new ModelFileException(where + ": malformed data_offsets " + offs
                    + " (expected [begin, end] as whole numbers)");
        }
        long begin = offs.get(0).asLong();
        long end = offs.get(1).asLong();
        if (begin < 0 || end < begin) {
            throw new ModelFileException(where + ": malformed data_offsets [" + begin + ", " + end + "]");
        }
        if (end > dataLen) {
            throw new ModelFileException(where + ": data offsets [" + begin + ", " + end
                    + "] out of range: the data section has only " + dataLen + " bytes (truncated file?)");
        }
        if (end - begin != needed) {
            throw new ModelFileException(where + ": shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + needed + " bytes but its data offsets span " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static long[] parseShape(String where, JsonNode shapeNode) {
        if (!shapeNode.isArray()) {
            throw new ModelFileException(where + ": malformed shape " + shapeNode + " (expected an array)");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!isWholeNumber(d)) {
                throw new ModelFileException(where + ": malformed shape " + shapeNode + " (dimension " + i
                        + " is " + d + ")");
            }
            if (d.asLong() < 0) {
                throw new ModelFileException(where + ": negative dimension " + d.asLong() + " in shape "
                        + shapeNode);
            }
            shape[i] = d.asLong();
        }
        return shape;
    }

    private static boolean isWholeNumber(JsonNode n) {
        return n != null && n.isIntegralNumber() && n.canConvertToLong();
    }

    private static long multiplyOrFail(String where, long a, long b, long[] shape) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw new ModelFileException(where + ": shape " + Arrays.toString(shape) + " is too large");
        }
    }

    private static void checkOverlaps(Path path, Map<String, TensorInfo> tensors) {
        List<TensorInfo> sorted = new ArrayList<>();
        for (TensorInfo t : tensors.values()) {
            if (t.byteSize() > 0) {
                sorted.add(t);
            }
        }
        sorted.sort(Comparator.comparingLong(TensorInfo::begin));
        // Compare with the entry reaching furthest so far, not just the neighbour, so a short tensor
        // nested inside a long one cannot hide a later overlap.
        TensorInfo furthest = null;
        for (TensorInfo t : sorted) {
            if (furthest != null && t.begin() < furthest.end()) {
                throw new ModelFileException(path + ": tensors '" + furthest.name() + "' [" + furthest.begin()
                        + ", " + furthest.end() + "] and '" + t.name() + "' [" + t.begin() + ", " + t.end()
                        + "] overlap in the data section");
            }
            if (furthest == null || t.end() > furthest.end()) {
                furthest = t;
            }
        }
    }

    /** A hint for the common mistakes: handing over a .ckpt, an image or a text file. */
    private static String describeStart(ByteBuffer first8) {
        byte[] b = new byte[8];
        first8.get(0, b);
        if (b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4) {
            return "it is a ZIP archive, e.g. a PyTorch .ckpt/.pt file";
        }
        if ((b[0] & 0xff) == 0x80 && b[1] >= 2 && b[1] <= 5) {
            return "it is a Python pickle, e.g. an old PyTorch .ckpt file";
        }
        if ((b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
            return "it is a PNG image";
        }
        if ((b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8) {
            return "it is a JPEG image";
        }
        if (b[0] == 'G' && b[1] == 'G' && b[2] == 'U' && b[3] == 'F') {
            return "it is a GGUF file";
        }
        boolean text = true;
        for (byte c : b) {
            text &= (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\r' || c == '\t';
        }
        return text ? "it starts with text \"" + new String(b, StandardCharsets.ISO_8859_1).strip() + "\""
                : "unrecognised first bytes";
    }

    private static String quoteStart(String s) {
        String head = s.length() > 16 ? s.substring(0, 16) + "..." : s;
        return "\"" + head.replaceAll("\\p{Cntrl}", "?") + "\"";
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
            pos += n;
        }
    }

    public Path path() {
        return path;
    }

    /** Tensor names in header order. */
    public Set<String> keys() {
        return tensors.keySet();
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /** The {@code __metadata__} entries (empty when the file has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new ModelFileException(path + ": no tensor named '" + name + "'");
        }
        return t;
    }

    /**
     * Reads a tensor's raw little-endian bytes into {@code dst} (from its position, exactly
     * {@code info(name).byteSize()} bytes), with positional reads: no mapping stays behind, so loading a
     * multi-GB checkpoint into converted weights does not also keep the file's pages in this process.
     */
    public void read(String name, ByteBuffer dst) {
        TensorInfo t = info(name);
        if (memory.containsKey(name)) {
            dst.put(memory.get(name).data().duplicate());
            return;
        }
        if (parts != null) {
            Part p = parts.get(name);
            p.file().read(p.key(), dst);
            return;
        }
        if (t.byteSize() > Integer.MAX_VALUE) {
            throw new ModelFileException(path + ": tensor '" + name + "' has " + t.byteSize()
                    + " bytes, more than one read can hold (2 GiB)");
        }
        if (dst.remaining() < t.byteSize()) {
            throw new IllegalArgumentException("buffer of " + dst.remaining() + " bytes for tensor '" + name
                    + "' of " + t.byteSize() + " bytes");
        }
        if (!channel.isOpen()) {
            throw new IllegalStateException(path + ": already closed, cannot read tensor '" + name + "'");
        }
        ByteBuffer view = dst.slice().limit((int) t.byteSize());
        long pos = dataStart + t.begin();
        try {
            while (view.hasRemaining()) {
                int n = channel.read(view, pos);
                if (n < 0) {
                    throw new ModelFileException(path + ": truncated while reading tensor '" + name + "'");
                }
                pos += n;
            }
        } catch (IOException e) {
            throw new ModelFileException(path + ": cannot read tensor '" + name + "': " + e.getMessage(), e);
        }
    }

    /**
     * {@code use} applied to a tensor's raw little-endian bytes, memory-mapped read-only for the length of the
     * call and unmapped when it returns: a conversion can read the page cache directly (no copy into a
     * buffer of the stored dtype), and no mapping is left for the GC to drop some time later. Nothing may
     * keep the buffer, or memory that views it, past {@code use}.
     */
    public <T> T withMapped(String name, java.util.function.Function<ByteBuffer, T> use) {
        ByteBuffer mapped = bytes(name);
        try {
            return use.apply(mapped);
        } finally {
            Unmapper.unmap(mapped);
        }
    }

    /** The raw little-endian bytes of a tensor, memory-mapped (read-only); valid while the file is open. */
    public ByteBuffer bytes(String name) {
        TensorInfo t = info(name);
        if (memory.containsKey(name)) {
            return memory.get(name).data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        }
        if (parts != null) {
            Part p = parts.get(name);
            return p.file().bytes(p.key());
        }
        if (t.byteSize() > Integer.MAX_VALUE) {
            throw new ModelFileException(path + ": tensor '" + name + "' has " + t.byteSize()
                    + " bytes, more than one mapping can hold (2 GiB)");
        }
        if (!channel.isOpen()) {
            throw new IllegalStateException(path + ": already closed, cannot read tensor '" + name + "'");
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin(), t.byteSize())
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new ModelFileException(path + ": cannot map tensor '" + name + "': " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (channel == null) {
            owned.forEach(SafetensorsFile::close);
            return;
        }
        try {
            channel.close();
        } catch (IOException e) {
            throw new ModelFileException(path + ": close failed: " + e.getMessage(), e);
        }
    }
}
