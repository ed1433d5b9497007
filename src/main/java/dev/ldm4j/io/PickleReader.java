package dev.ldm4j.io;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A pickle interpreter that never runs code: it reads the opcodes of a pickle stream (protocols 2 to 5, as
 * {@code torch.save} writes them) and builds plain Java values, and it knows by name the few callables a
 * PyTorch state dict needs, evaluating them itself. Any other global (such as {@code os.system} or
 * {@code builtins.eval}) is refused with an error naming the file and the global; a few harmless
 * metadata classes are kept as inert {@link Global} placeholders that can never be called.
 *
 * <p>Values: str is {@link String}, int is {@link Long} (or {@link BigInteger} when wider), float is
 * {@link Double}, bool is {@link Boolean}, None is {@code null}, bytes is {@code byte[]}, list is
 * {@link ArrayList}, dict is {@link LinkedHashMap}, set is {@link LinkedHashSet}, tuple is {@link Tuple}.
 */
final class PickleReader {
    /** A Python tuple (immutable; may hold nulls, unlike {@code List.of}). */
    record Tuple(List<Object> items) {
        Tuple {
            items = Collections.unmodifiableList(new ArrayList<>(items));
        }

        int size() {
            return items.size();
        }

        Object get(int i) {
            return items.get(i);
        }
    }

    /** A global the reader accepts, by module and name; never called unless the reader knows it. */
    record Global(String module, String name) {
        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    /** A tensor as {@code torch._utils._rebuild_tensor_v2} describes it: a view of a storage. */
    record TensorRef(Object storage, long storageOffset, long[] shape, long[] stride) {}

    /** The callables a state dict needs, which {@link #call} evaluates itself. */
    private static final Set<String> CALLABLE = Set.of(
            "collections.OrderedDict",
            "torch._utils._rebuild_tensor",
            "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_parameter");

    /** Classes that appear as values or dict keys in released checkpoints' metadata, kept as inert names. */
    private static final Set<String> INERT = Set.of(
            "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint",
            "lightning.pytorch.callbacks.model_checkpoint.ModelCheckpoint");

    /** The storage classes of {@code torch} and the element type each holds. */
    static final Map<String, DType> STORAGES = Map.ofEntries(
            Map.entry("DoubleStorage", DType.F64), Map.entry("FloatStorage", DType.F32),
            Map.entry("HalfStorage", DType.F16), Map.entry("BFloat16Storage", DType.BF16),
            Map.entry("LongStorage", DType.I64), Map.entry("IntStorage", DType.I32),
            Map.entry("ShortStorage", DType.I16), Map.entry("CharStorage", DType.I8),
            Map.entry("ByteStorage", DType.U8), Map.entry("BoolStorage", DType.BOOL));

    /** {@code torch.float16}-style dtype objects, inert values in newer files' metadata. */
    private static final Map<String, DType> DTYPES = Map.ofEntries(
            Map.entry("float64", DType.F64), Map.entry("double", DType.F64), Map.entry("float32", DType.F32),
            Map.entry("float", DType.F32), Map.entry("float16", DType.F16), Map.entry("half", DType.F16),
            Map.entry("bfloat16", DType.BF16), Map.entry("int64", DType.I64), Map.entry("long", DType.I64),
            Map.entry("int32", DType.I32), Map.entry("int", DType.I32), Map.entry("int16", DType.I16),
            Map.entry("short", DType.I16), Map.entry("int8", DType.I8), Map.entry("uint8", DType.U8),
            Map.entry("bool", DType.BOOL));

    /** Nesting deeper than this in a dict key or tensor argument is refused (real ones are 2 deep). */
    private static final int MAX_DEPTH = 64;
    private static final int MAX_LINE = 256;
    /**
     * The longest str or bytes value read: a state dict's are names of tensors, so a larger one is a corrupt
     * length, refused before a multi-GB checkpoint's bytes become one Java array.
     */
    private static final long MAX_VALUE = 1L << 28;
    private static final Object MARK = new Object() {
        @Override
        public String toString() {
            return "MARK";
        }
    };

    private final Path path;
    private final ByteReader in;
    private final Function<Tuple, Object> persistentLoad;
    private final List<Object> stack = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private PickleReader(Path path, ByteReader in, Function<Tuple, Object> persistentLoad) {
        this.path = path;
        this.in = in;
        this.persistentLoad = persistentLoad;
    }

    /**
     * Reads one pickle from {@code in} (which is left just after its STOP) and returns its value.
     * {@code persistentLoad} turns a persistent id (BINPERSID, a tuple) into the value it stands for.
     *
     * @throws ModelFileException naming {@code path} for a corrupt stream or a global a state dict never needs
     */
    static Object read(Path path, ByteReader in, Function<Tuple, Object> persistentLoad) {
        return new PickleReader(path, in, persistentLoad).run();
    }

    /** The element type of a {@code torch.*Storage} global, or null when {@code o} is not one. */
    static DType storageType(Object o) {
        return o instanceof Global g && g.module().equals("torch") ? STORAGES.get(g.name()) : null;
    }

    private Object run() {
        while (true) {
            long at = in.position();
            int op = in.u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    int v = in.u8();
                    if (v < 2 || v > 5) {
                        throw corrupt(at, "unsupported pickle protocol " + v);
                    }
                }
                case 0x95 -> in.s64(); // FRAME: a length hint; the bytes are read as they come
                case '.' -> { // STOP
                    return pop(at);
                }
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) in.s32());
                case 'K' -> push((long) in.u8());
                case 'M' -> push((long) in.u16());
                case 0x8a -> push(littleEndianInt(in.bytes(in.u8())));
                case 0x8b -> push(littleEndianInt(value(at, in.s32())));
                case 'G' -> push(in.f64BigEndian());
                case 'X' -> push(utf8(at, value(at, in.u32())));
                case 0x8c -> push(utf8(at, value(at, in.u8())));
                case 0x8d -> push(utf8(at, value(at, in.s64())));
                case 'U' -> push(new String(value(at, in.u8()), StandardCharsets.ISO_8859_1));
                case 'T' -> push(new String(value(at, in.s32()), StandardCharsets.ISO_8859_1));
                case 'C' -> push(value(at, in.u8()));
                case 'B' -> push(value(at, in.u32()));
                case 0x8e, 0x96 -> push(value(at, in.s64()));
                case '}' -> push(new LinkedHashMap<>());
                case ']' -> push(new ArrayList<>());
                case ')' -> push(new Tuple(List.of()));
                case 0x8f -> push(new LinkedHashSet<>());
                case '(' -> push(MARK);
                case 't' -> push(new Tuple(popMark(at)));
                case 0x85 -> push(tupleOf(at, 1));
                case 0x86 -> push(tupleOf(at, 2));
                case 0x87 -> push(tupleOf(at, 3));
                case 'l' -> push(new ArrayList<>(popMark(at)));
                case 'd' -> {
                    Map<Object, Object> d = new LinkedHashMap<>();
                    putAll(at, d, popMark(at));
                    push(d);
                }
                case 0x91 -> {
                    Set<Object> s = new LinkedHashSet<>();
                    addAll(at, s, popMark(at));
                    push(s);
                }
                case 0x90 -> { // ADDITEMS
                    List<Object> items = popMark(at);
                    addAll(at, top(at, Set.class, "ADDITEMS"), items);
                }
                case 'a' -> {
                    Object v = pop(at);
                    top(at, List.class, "APPEND").add(v);
                }
                case 'e' -> {
                    List<Object> items = popMark(at);
                    top(at, List.class, "APPENDS").addAll(items);
                }
                case 's' -> {
                    Object v = pop(at);
                    Object k = pop(at);
                    putAll(at, top(at, Map.class, "SETITEM"), Arrays.asList(k, v));
                }
                case 'u' -> {
                    List<Object> kv = popMark(at);
                    putAll(at, top(at, Map.class, "SETITEMS"), kv);
                }
                case '0' -> pop(at);
                case '1' -> popMark(at);
                case '2' -> push(peek(at));
                case 'q' -> memo.put((long) in.u8(), peek(at));
                case 'r' -> memo.put(in.u32(), peek(at));
                case 0x94 -> memo.put((long) memo.size(), peek(at));
                case 'p' -> memo.put(decimal(at), peek(at));
                case 'h' -> push(memoGet(at, in.u8()));
                case 'j' -> push(memoGet(at, in.u32()));
                case 'g' -> push(memoGet(at, decimal(at)));
                case 'c' -> {
                    String module = ascii(at, in.line(MAX_LINE));
                    String name = ascii(at, in.line(MAX_LINE));
                    push(global(module, name));
                }
                case 0x93 -> {
                    Object name = pop(at);
                    Object module = pop(at);
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw corrupt(at, "STACK_GLOBAL needs two strings");
                    }
                    push(global(m, n));
                }
                case 'R' -> {
                    Object args = pop(at);
                    Object callable = pop(at);
                    if (!(args instanceof Tuple t)) {
                        throw corrupt(at, "REDUCE needs a tuple of arguments");
                    }
                    push(call(at, callable, t));
                }
                case 0x81 -> { // NEWOBJ: cls.__new__(cls, *args); only for the callables known here
                    Object args = pop(at);
                    Object cls = pop(at);
                    if (!(args instanceof Tuple t)) {
                        throw corrupt(at, "NEWOBJ needs a tuple of arguments");
                    }
                    push(call(at, cls, t));
                }
                case 'b' -> { // BUILD: set an object's state; nothing a reader of tensors needs, so dropped
                    pop(at);
                    peek(at);
                }
                case 'Q' -> {
                    Object pid = pop(at);
                    if (!(pid instanceof Tuple t)) {
                        throw corrupt(at, "a persistent id that is not a tuple");
                    }
                    push(persistentLoad.apply(t));
                }
                default -> throw corrupt(at, String.format("unsupported pickle opcode 0x%02x", op)
                        + describeOpcode(op));
            }
        }
    }

    /** The next {@code n} bytes of a str, bytes or long value, {@code n} checked first. */
    private byte[] value(long at, long n) {
        if (n > MAX_VALUE) {
            throw corrupt(at, "a value of " + n + " bytes (a state dict's are names; a corrupt length?)");
        }
        return in.bytes(n);
    }

    private static String describeOpcode(int op) {
        return switch (op) {
            case 'i', 'o', 0x92 -> " (an object construction a state dict never needs)";
            case 0x82, 0x83, 0x84 -> " (the extension registry, which a state dict never needs)";
            case 0x97, 0x98 -> " (an out-of-band buffer)";
            case 'P' -> " (a text persistent id)";
            default -> "";
        };
    }

    /**
     * A global by name: known callables and inert classes become a {@link Global}, storage types and dtypes
     * too; anything else is refused before anything else happens with it.
     */
    private Object global(String module, String name) {
        String full = module + "." + name;
        if (CALLABLE.contains(full) || INERT.contains(full)
                || (module.equals("torch") && (STORAGES.containsKey(name) || DTYPES.containsKey(name)))) {
            return new Global(module, name);
        }
        throw new ModelFileException(path + ": refused: the pickle asks for the global '" + full
                + "', which a state dict never needs (only tensors, storages and OrderedDict are allowed;"
                + " nothing was run)");
    }

    /** Applies one of the known callables (REDUCE/NEWOBJ); a placeholder or anything else is an error. */
    private Object call(long at, Object callable, Tuple args) {
        if (!(callable instanceof Global g) || !CALLABLE.contains(g.toString())) {
            throw new ModelFileException(path + ": refused: the pickle calls "
                    + (callable instanceof Global g ? "'" + g + "'" : "a " + typeName(callable))
                    + " at byte " + at + ", which a state dict never does (nothing was run)");
        }
        switch (g.name()) {
            case "OrderedDict" -> {
                if (args.size() != 0) {
                    throw corrupt(at, "OrderedDict called with arguments");
                }
                return new LinkedHashMap<>();
            }
            case "_rebuild_parameter" -> {
                if (args.size() < 1 || !(args.get(0) instanceof TensorRef t)) {
                    throw corrupt(at, "_rebuild_parameter without a tensor");
                }
                return t;
            }
            default -> { // _rebuild_tensor(storage, offset, size, stride) and _v2 (+ requires_grad, hooks...)
                if (args.size() < 4) {
                    throw corrupt(at, g.name() + " with " + args.size() + " arguments");
                }
                long offset = asLong(at, args.get(1), "storage offset");
                long[] shape = longs(at, args.get(2), "size");
                long[] stride = longs(at, args.get(3), "stride");
                if (offset < 0 || shape.length != stride.length) {
                    throw corrupt(at, g.name() + " with offset " + offset + ", size " + Arrays.toString(shape)
                            + " and stride " + Arrays.toString(stride));
                }
                return new TensorRef(args.get(0), offset, shape, stride);
            }
        }
    }

    private long[] longs(long at, Object o, String what) {
        if (!(o instanceof Tuple t)) {
            throw corrupt(at, "the tensor " + what + " is a " + typeName(o) + ", not a tuple");
        }
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = asLong(at, t.get(i), what);
            if (out[i] < 0) {
                throw corrupt(at, "negative tensor " + what + " " + out[i]);
            }
        }
        return out;
    }

    private long asLong(long at, Object o, String what) {
        if (o instanceof Long l) {
            return l;
        }
        throw corrupt(at, "the tensor " + what + " is a " + typeName(o) + ", not an int");
    }

    /** Python's int from little-endian two's complement bytes (LONG1/LONG4). */
    private static Object littleEndianInt(byte[] le) {
        if (le.length == 0) {
            return 0L;
        }
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private Tuple tupleOf(long at, int n) {
        Object[] items = new Object[n];
        for (int i = n - 1; i >= 0; i--) {
            items[i] = pop(at);
        }
        return new Tuple(Arrays.asList(items));
    }

    private void putAll(long at, Map<Object, Object> d, List<Object> kv) {
        if (kv.size() % 2 != 0) {
            throw corrupt(at, "an odd number of items for a dict");
        }
        for (int i = 0; i < kv.size(); i += 2) {
            checkHashable(at, kv.get(i), 0);
            d.put(kv.get(i), kv.get(i + 1));
        }
    }

    private void addAll(long at, Set<Object> s, List<Object> items) {
        for (Object o : items) {
            checkHashable(at, o, 0);
            s.add(o);
        }
    }

    /**
     * Python refuses mutable dict keys; so does this reader, which also keeps Java's hashCode from recursing
     * through a list that contains itself.
     */
    private void checkHashable(long at, Object k, int depth) {
        if (depth > MAX_DEPTH) {
            throw corrupt(at, "a dict key nested more than " + MAX_DEPTH + " deep");
        }
        if (k instanceof Tuple t) {
            for (Object o : t.items()) {
                checkHashable(at, o, depth + 1);
            }
        } else if (!(k == null || k instanceof String || k instanceof Long || k instanceof BigInteger
                || k instanceof Double || k instanceof Boolean || k instanceof Global)) {
            throw corrupt(at, "a dict key or set item of type " + typeName(k));
        }
    }

    private Object memoGet(long at, long key) {
        if (!memo.containsKey(key)) {
            throw corrupt(at, "memo entry " + key + " read before it was written");
        }
        return memo.get(key);
    }

    private long decimal(long at) {
        String s = ascii(at, in.line(MAX_LINE));
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw corrupt(at, "a memo index that is not a number");
        }
    }

    private String utf8(long at, byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw corrupt(at, "a string that is not UTF-8");
        }
    }

    private String ascii(long at, byte[] b) {
        for (byte c : b) {
            if (c < 0x20 || c > 0x7e) {
                throw corrupt(at, "a global name that is not printable ASCII");
            }
        }
        return new String(b, StandardCharsets.US_ASCII);
    }

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop(long at) {
        if (stack.isEmpty()) {
            throw corrupt(at, "the stack is empty");
        }
        Object o = stack.remove(stack.size() - 1);
        if (o == MARK) {
            throw corrupt(at, "a MARK where a value was expected");
        }
        return o;
    }

    private Object peek(long at) {
        if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
            throw corrupt(at, "no value on the stack");
        }
        return stack.get(stack.size() - 1);
    }

    @SuppressWarnings("unchecked")
    private <T> T top(long at, Class<T> type, String op) {
        Object o = peek(at);
        if (!type.isInstance(o)) {
            throw corrupt(at, op + " on a " + typeName(o));
        }
        return (T) o;
    }

    /** The values above the topmost MARK, which is removed with them. */
    private List<Object> popMark(long at) {
        for (int i = stack.size() - 1; i >= 0; i--) {
            if (stack.get(i) == MARK) {
                List<Object> sub = stack.subList(i, stack.size());
                List<Object> items = new ArrayList<>(sub.subList(1, sub.size()));
                sub.clear();
                return items;
            }
        }
        throw corrupt(at, "no MARK on the stack");
    }

    static String typeName(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof Global g) {
            return g.toString();
        }
        return switch (o.getClass().getSimpleName()) {
            case "String" -> "str";
            case "Long", "BigInteger" -> "int";
            case "Double" -> "float";
            case "Boolean" -> "bool";
            case "byte[]" -> "bytes";
            case "ArrayList" -> "list";
            case "LinkedHashMap" -> "dict";
            case "LinkedHashSet" -> "set";
            case "Tuple" -> "tuple";
            case "TensorRef" -> "tensor";
            default -> o.getClass().getSimpleName();
        };
    }

    private ModelFileException corrupt(long at, String what) {
        return new ModelFileException(path + ": corrupt pickle at byte " + at + ": " + what);
    }
}
