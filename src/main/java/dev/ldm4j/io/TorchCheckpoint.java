package dev.ldm4j.io;

import dev.ldm4j.io.PickleReader.Global;
import dev.ldm4j.io.PickleReader.TensorRef;
import dev.ldm4j.io.PickleReader.Tuple;
import java.math.BigInteger;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The tensors of a PyTorch {@code .ckpt}/{@code .pt} file as absolute byte ranges of the file, found without
 * running any of its code (see {@link PickleReader}). Two containers exist:
 * <ul>
 *   <li>ZIP ({@code torch.save} since 1.6): {@code <archive>/data.pkl} is the pickle, whose persistent ids
 *       name storages stored uncompressed as {@code <archive>/data/<key>};</li>
 *   <li>legacy: five pickles back to back (magic number, protocol version, system info, the object, the list
 *       of storage keys), then each storage as an 8-byte little-endian element count and its raw bytes.</li>
 * </ul>
 * The state dict is the top-level dict, or its {@code "state_dict"} value when it has one (the SD releases
 * wrap it with the epoch, the step and the trainer's callbacks). Entries that are not tensors are ignored.
 */
final class TorchCheckpoint {
    /** The legacy format's first pickle. */
    private static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    private static final long LEGACY_PROTOCOL = 1001;
    /** How deep tensors in dicts within the state dict are looked for. */
    private static final int MAX_NESTING = 4;

    /** A persistent id resolved: the storage {@code key} of element type {@code dtype}, from element {@code offset}. */
    private record StorageRef(String key, DType dtype, long offset) {}

    /** Where a storage's bytes lie in the file. */
    private record Span(long start, long size) {}

    private TorchCheckpoint() {}

    /** Whether the first bytes are a ZIP archive's. */
    static boolean looksLikeZip(byte[] head) {
        return head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
    }

    /** Whether the first bytes are a pickle's (PROTO 2 to 5), as a legacy checkpoint starts. */
    static boolean looksLikePickle(byte[] head) {
        return head.length >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5;
    }

    /** The tensors of a ZIP checkpoint, by state-dict key, with absolute byte ranges. */
    static Map<String, TensorInfo> readZip(Path path, FileChannel ch, long size) {
        Map<String, ZipIndex.Entry> entries = ZipIndex.read(path, ch, size);
        ZipIndex.Entry pickle = null;
        for (ZipIndex.Entry e : entries.values()) {
            int slash = e.name().indexOf('/');
            if (slash > 0 && e.name().substring(slash).equals("/data.pkl")) {
                if (pickle != null) {
                    throw new ModelFileException(path + ": not a PyTorch checkpoint: two pickles ('"
                            + pickle.name() + "' and '" + e.name() + "')");
                }
                pickle = e;
            }
        }
        if (pickle == null) {
            throw new ModelFileException(path + ": a ZIP archive without <archive>/data.pkl, so not a PyTorch"
                    + " checkpoint");
        }
        String prefix = pickle.name().substring(0, pickle.name().length() - "data.pkl".length());
        checkByteOrder(path, ch, entries.get(prefix + "byteorder"));
        Object root = PickleReader.read(path, new ByteReader(path, ch, pickle.dataStart(),
                pickle.dataStart() + pickle.size()), pid -> storageRef(path, pid, 5));
        Map<String, Span> spans = new HashMap<>();
        for (ZipIndex.Entry e : entries.values()) {
            if (e.name().startsWith(prefix + "data/")) {
                spans.put(e.name().substring(prefix.length() + "data/".length()), new Span(e.dataStart(), e.size()));
            }
        }
        return tensors(path, root, spans);
    }

    /** Newer files say which byte order their storages use; only little-endian is read. */
    private static void checkByteOrder(Path path, FileChannel ch, ZipIndex.Entry e) {
        if (e == null) {
            return;
        }
        ByteReader r = new ByteReader(path, ch, e.dataStart(), e.dataStart() + e.size());
        String order = new String(r.bytes(Math.min(e.size(), 16)), StandardCharsets.US_ASCII).strip();
        if (!order.equals("little")) {
            throw new ModelFileException(path + ": a checkpoint of byte order '" + order.replaceAll("\\p{Cntrl}", "?")
                    + "'; only little-endian ones are supported");
        }
    }

    /** The tensors of a legacy (pre-1.6) checkpoint, by state-dict key, with absolute byte ranges. */
    static Map<String, TensorInfo> readLegacy(Path path, FileChannel ch, long size) {
        ByteReader in = new ByteReader(path, ch, 0, size);
        Function<Tuple, Object> noIds = pid -> {
            throw new ModelFileException(path + ": corrupt legacy checkpoint: a storage in its header");
        };
        Object magic = PickleReader.read(path, in, noIds);
        if (!LEGACY_MAGIC.equals(magic)) {
            throw new ModelFileException(path + ": a pickle, but not a PyTorch checkpoint (no legacy magic number)");
        }
        Object protocol = PickleReader.read(path, in, noIds);
        if (!Long.valueOf(LEGACY_PROTOCOL).equals(protocol)) {
            throw new ModelFileException(path + ": legacy checkpoint of unsupported protocol version "
                    + (protocol instanceof Long l ? l.toString() : PickleReader.typeName(protocol)));
        }
        if (PickleReader.read(path, in, noIds) instanceof Map<?, ?> info
                && Boolean.FALSE.equals(info.get("little_endian"))) {
            throw new ModelFileException(path + ": a big-endian checkpoint; only little-endian ones are supported");
        }
        Map<String, DType> dtypes = new HashMap<>();
        Object root = PickleReader.read(path, in, pid -> {
            StorageRef s = storageRef(path, pid, 6);
            DType before = dtypes.putIfAbsent(s.key(), s.dtype());
            if (before != null && before != s.dtype()) {
                throw new ModelFileException(path + ": storage '" + s.key() + "' is both " + before + " and "
                        + s.dtype());
            }
            return s;
        });
        if (!(PickleReader.read(path, in, noIds) instanceof List<?> keys)) {
            throw new ModelFileException(path + ": corrupt legacy checkpoint: no list of storage keys");
        }
        Map<String, Span> spans = new HashMap<>();
        for (Object k : keys) {
            DType dtype = k instanceof String s ? dtypes.get(s) : null;
            if (dtype == null) {
                throw new ModelFileException(path + ": corrupt legacy checkpoint: storage key "
                        + (k instanceof String s ? "'" + s + "'" : "of type " + PickleReader.typeName(k))
                        + " that no tensor uses");
            }
            long count = in.s64();
            if (count < 0 || count > in.remaining() / dtype.byteSize()) {
                throw new ModelFileException(path + ": truncated or corrupt: storage '" + k + "' of " + count
                        + " elements of " + dtype + " at byte " + in.position() + ", but only " + in.remaining()
                        + " bytes are left");
            }
            long bytes = count * dtype.byteSize();
            spans.put((String) k, new Span(in.position(), bytes));
            in.skip(bytes);
        }
        return tensors(path, root, spans);
    }

    /**
     * A persistent id {@code ('storage', <torch.XStorage>, key, location, numel[, view])}; a legacy view
     * {@code (view_key, offset, size)} names a part of its root storage, from element {@code offset}.
     */
    private static StorageRef storageRef(Path path, Tuple pid, int arity) {
        if (pid.size() != arity || !"storage".equals(pid.get(0)) || !(pid.get(2) instanceof String key)) {
            throw new ModelFileException(path + ": corrupt checkpoint: a persistent id that names no storage");
        }
        DType dtype = PickleReader.storageType(pid.get(1));
        if (dtype == null) {
            throw new ModelFileException(path + ": unsupported storage type " + describe(pid.get(1)) + " of storage '"
                    + key + "'");
        }
        long offset = 0;
        if (arity == 6 && pid.get(5) != null) {
            if (!(pid.get(5) instanceof Tuple view) || view.size() != 3 || !(view.get(1) instanceof Long o) || o < 0) {
                throw new ModelFileException(path + ": corrupt checkpoint: a bad view of storage '" + key + "'");
            }
            offset = o;
        }
        return new StorageRef(key, dtype, offset);
    }

    private static String describe(Object o) {
        return o instanceof Global g ? "'" + g + "'" : "of type " + PickleReader.typeName(o);
    }

    /**
     * The state dict's tensors, each checked to be contiguous and inside its storage. Tensors in nested dicts
     * are named by their path, joined with dots ({@code string_to_param.*} of a textual-inversion file).
     */
    private static Map<String, TensorInfo> tensors(Path path, Object root, Map<String, Span> spans) {
        if (!(root instanceof Map<?, ?> top)) {
            throw new ModelFileException(path + ": holds a " + PickleReader.typeName(root) + ", not a state dict");
        }
        Map<?, ?> dict = top.get("state_dict") instanceof Map<?, ?> inner ? inner : top;
        Map<String, TensorInfo> out = new LinkedHashMap<>();
        collect(path, dict, "", 0, spans, out, Collections.newSetFromMap(new IdentityHashMap<>()));
        return out;
    }

    /** {@code seen}: a pickle can put one dict in many places (memo); each is walked once, so nothing blows up. */
    private static void collect(Path path, Map<?, ?> dict, String prefix, int depth, Map<String, Span> spans,
                                Map<String, TensorInfo> out, Set<Object> seen) {
        if (!seen.add(dict)) {
            return;
        }
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            boolean nested = e.getValue() instanceof Map<?, ?> && depth < MAX_NESTING;
            if (!(e.getValue() instanceof TensorRef) && !nested) {
                continue;
            }
            if (!(e.getKey() instanceof String name)) {
                if (!nested) {
                    throw new ModelFileException(path + ": a tensor under a key of type "
                            + PickleReader.typeName(e.getKey()) + ", not a name");
                }
                continue;
            }
            if (e.getValue() instanceof TensorRef t) {
                out.put(prefix + name, tensor(path, prefix + name, t, spans));
            } else {
                collect(path, (Map<?, ?>) e.getValue(), prefix + name + ".", depth + 1, spans, out, seen);
            }
        }
    }

    private static TensorInfo tensor(Path path, String name, TensorRef t, Map<String, Span> spans) {
        String where = path + ": tensor '" + name + "'";
        if (!(t.storage() instanceof StorageRef s)) {
            throw new ModelFileException(where + ": its storage is a " + PickleReader.typeName(t.storage()));
        }
        Span span = spans.get(s.key());
        if (span == null) {
            throw new ModelFileException(where + ": its storage '" + s.key() + "' is missing from the file");
        }
        long[] shape = t.shape();
        long expected = 1;
        try {
            for (int i = shape.length - 1; i >= 0; i--) {
                if (shape[i] > 1 && t.stride()[i] != expected) {
                    throw new ModelFileException(where + ": not contiguous (shape " + Arrays.toString(shape)
                            + ", stride " + Arrays.toString(t.stride()) + "); save it after .contiguous()");
                }
                expected = Math.multiplyExact(expected, shape[i]);
            }
            long numel = expected;
            int es = s.dtype().byteSize();
            long bytes = Math.multiplyExact(numel, es);
            if (numel == 0) {
                return new TensorInfo(name, s.dtype(), shape, span.start(), span.start());
            }
            long first = Math.multiplyExact(Math.addExact(s.offset(), t.storageOffset()), es);
            if (Math.addExact(first, bytes) > span.size()) {
                throw new ModelFileException(where + ": " + Arrays.toString(shape) + " of " + s.dtype()
                        + " from element " + (s.offset() + t.storageOffset()) + " runs past its storage '" + s.key()
                        + "' of " + span.size() + " bytes (truncated or corrupt file)");
            }
            return new TensorInfo(name, s.dtype(), shape, span.start() + first, span.start() + first + bytes);
        } catch (ArithmeticException e) {
            throw new ModelFileException(where + ": shape " + Arrays.toString(shape) + " is too large");
        }
    }
}
