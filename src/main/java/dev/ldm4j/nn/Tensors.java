package dev.ldm4j.nn;

import dev.ldm4j.io.DType;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.io.SafetensorsWriter;
import dev.ldm4j.io.TensorInfo;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Conversions between libtorch tensors, Java arrays and safetensors files (read and write). */
public final class Tensors {
    private Tensors() {}

    public static ScalarType scalarType(DType d) {
        return switch (d) {
            case F64 -> ScalarType.Double;
            case F32 -> ScalarType.Float;
            case F16 -> ScalarType.Half;
            case BF16 -> ScalarType.BFloat16;
            case I64 -> ScalarType.Long;
            case I32 -> ScalarType.Int;
            case I16 -> ScalarType.Short;
            case I8 -> ScalarType.Char;
            case U8 -> ScalarType.Byte;
            case BOOL -> ScalarType.Bool;
        };
    }

    public static DType dtype(ScalarType s) {
        return switch (s) {
            case Double -> DType.F64;
            case Float -> DType.F32;
            case Half -> DType.F16;
            case BFloat16 -> DType.BF16;
            case Long -> DType.I64;
            case Int -> DType.I32;
            case Short -> DType.I16;
            case Char -> DType.I8;
            case Byte -> DType.U8;
            case Bool -> DType.BOOL;
            default -> throw new IllegalArgumentException("no safetensors dtype for " + s);
        };
    }

    /**
     * The dtype of a tensor as one of the enum's constants. {@code Tensor.scalar_type()} hands back an enum
     * object whose ordinal is wrong (only its {@code value} is right), so {@code ==} and {@code switch} on it
     * fail; always go through this.
     */
    public static ScalarType scalarType(Tensor t) {
        return scalarType(t.scalar_type());
    }

    /** The enum constant of a ScalarType that libtorch handed back (same trap as the tensor's own). */
    public static ScalarType scalarType(ScalarType fromNative) {
        byte v = fromNative.value;
        for (ScalarType s : ScalarType.values()) {
            if (s.value == v) {
                return s;
            }
        }
        throw new IllegalStateException("unknown scalar type " + v);
    }

    /**
     * Keeps {@code p} alive past the {@link org.bytedeco.javacpp.PointerScope} it was made in: what a layer
     * holds (weights and their optional wrappers) must outlive the request scope a model may be built in.
     */
    public static <P extends Pointer> P retain(P p) {
        p.retainReference();
        return p;
    }

    public static TensorOptions options(ScalarType s) {
        return new TensorOptions(s);
    }

    /** Reads a tensor in its stored dtype (a copy; the file may be closed afterwards). */
    public static Tensor read(SafetensorsFile file, String name) {
        Torch.load();
        TensorInfo info = file.info(name);
        Tensor t = torch.empty(info.shape(), options(scalarType(info.dtype())), new MemoryFormatOptional());
        if (info.byteSize() > 0) {
            // straight into the tensor's memory: no mapping of the file is left behind
            ByteBuffer dst = new BytePointer(t.data_ptr()).capacity(info.byteSize()).asByteBuffer();
            file.read(name, dst);
        }
        return t;
    }

    /**
     * Reads a tensor in {@code dtype}. A stored dtype that differs is converted straight from the file's pages
     * (mapped for the call, then unmapped): no buffer of the stored dtype is filled first. An fp16 SD 1.5 UNet
     * into bf16 on 2 Zen 4 cores: 1.56 s instead of 2.35 s for read-then-convert (docs/benchmarks.md).
     */
    public static Tensor read(SafetensorsFile file, String name, ScalarType dtype) {
        Torch.load();
        TensorInfo info = file.info(name);
        ScalarType stored = scalarType(info.dtype());
        if (stored == dtype || info.byteSize() == 0) {
            Tensor t = read(file, name);
            return stored == dtype ? t : t.to(dtype);
        }
        return file.withMapped(name, bytes -> {
            BytePointer data = new BytePointer(bytes);
            if (data.address() % info.dtype().byteSize() != 0) {
                // an element straddles its natural alignment (a hand-made file): read it into place
                return read(file, name).to(dtype);
            }
            // the view of the mapping is closed before the mapping goes; the conversion is a new tensor
            try (Tensor view = torch.from_blob(data, info.shape(), options(stored))) {
                return view.to(dtype);
            }
        });
    }

    /** Reads a tensor converted to float32. */
    public static Tensor readFloat(SafetensorsFile file, String name) {
        return read(file, name, ScalarType.Float);
    }

    public static void write(Path path, Map<String, Tensor> tensors) {
        write(path, tensors, Map.of());
    }

    /**
     * Writes tensors to a safetensors file in their own dtype (F32, F16, BF16, I64, ...; a tensor on another
     * device is copied to the CPU first), in map order, with the optional {@code __metadata__} strings. The
     * file appears atomically (see {@link SafetensorsWriter}).
     */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) {
        // The CPU copies must stay reachable until the bytes are written: the entries only view their memory.
        List<Tensor> keepAlive = new ArrayList<>();
        Map<String, SafetensorsWriter.Entry> entries = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            Tensor c = (t.is_cpu() ? t : t.cpu()).contiguous();
            keepAlive.add(c);
            DType dtype;
            try {
                dtype = dtype(scalarType(c));
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("tensor '" + e.getKey() + "': " + ex.getMessage(), ex);
            }
            long n = c.nbytes();
            ByteBuffer bytes = n == 0 ? ByteBuffer.allocate(0)
                    : new BytePointer(c.data_ptr()).capacity(n).limit(n).asByteBuffer();
            entries.put(e.getKey(), new SafetensorsWriter.Entry(dtype, shape(c), bytes));
        }
        try {
            SafetensorsWriter.write(path, entries, metadata);
        } finally {
            Reference.reachabilityFence(keepAlive);
        }
    }

    public static Tensor fromFloats(float[] data, long... shape) {
        Torch.load();
        Tensor t = torch.empty(shape, options(ScalarType.Float), new MemoryFormatOptional());
        new FloatPointer(t.data_ptr()).put(data);
        return t;
    }

    public static Tensor fromLongs(long[] data, long... shape) {
        Torch.load();
        Tensor t = torch.empty(shape, options(ScalarType.Long), new MemoryFormatOptional());
        new LongPointer(t.data_ptr()).put(data);
        return t;
    }

    public static Tensor scalar(double v) {
        return fromFloats(new float[] {(float) v});
    }

    public static float[] toFloats(Tensor t) {
        Tensor c = t.to(ScalarType.Float).contiguous();
        float[] out = new float[(int) c.numel()];
        new FloatPointer(c.data_ptr()).get(out);
        // c owns the memory just read: outside a PointerScope the GC could free it once c looks unused
        java.lang.ref.Reference.reachabilityFence(c);
        return out;
    }

    public static long[] toLongs(Tensor t) {
        Tensor c = t.to(ScalarType.Long).contiguous();
        long[] out = new long[(int) c.numel()];
        new LongPointer(c.data_ptr()).get(out);
        java.lang.ref.Reference.reachabilityFence(c);
        return out;
    }

    public static long[] shape(Tensor t) {
        return t.sizes().vec().get();
    }

    public static String shapeString(Tensor t) {
        return java.util.Arrays.toString(shape(t));
    }
}
