package dev.ldm4j.nn;

import dev.ldm4j.io.DType;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.io.TensorInfo;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Parameters read from a safetensors checkpoint, converted to the compute dtype and put on the device. */
public final class CheckpointSource implements ParameterSource {
    private final SafetensorsFile file;
    private final ScalarType dtype;
    private final ComputeDevice device;
    private static final Set<DType> FLOATS = EnumSet.of(DType.F32, DType.F16, DType.BF16, DType.F64);

    private final Map<String, Tensor> taken = new LinkedHashMap<>();

    public CheckpointSource(SafetensorsFile file, ScalarType dtype, ComputeDevice device) {
        this.file = file;
        this.dtype = dtype;
        this.device = device;
    }

    public CheckpointSource(SafetensorsFile file, ScalarType dtype) {
        this(file, dtype, ComputeDevice.CPU);
    }

    public CheckpointSource(SafetensorsFile file) {
        this(file, ScalarType.Float);
    }

    public SafetensorsFile file() {
        return file;
    }

    @Override
    public boolean has(String key) {
        return file.has(key);
    }

    @Override
    public Tensor get(String key, long[] shape) {
        if (!file.has(key)) {
            throw new ModelFileException(file.path() + ": missing key '" + key + "' (expected shape "
                    + Arrays.toString(shape) + ")");
        }
        TensorInfo info = file.info(key);
        if (!Arrays.equals(info.shape(), shape)) {
            throw new ModelFileException(file.path() + ": key '" + key + "' has shape "
                    + Arrays.toString(info.shape()) + " but the model config expects " + Arrays.toString(shape));
        }
        if (!FLOATS.contains(info.dtype())) {
            // an integer or boolean weight cast to float would run, and silently compute nonsense
            throw new ModelFileException(file.path() + ": key '" + key + "' is stored as " + info.dtype()
                    + "; model weights must be floating point (F32, F16, BF16, F64)");
        }
        // the stored-dtype copy is a temporary when converting: free it now, not at some GC
        try (PointerScope scope = new PointerScope()) {
            Tensor t = device == ComputeDevice.CPU ? Tensors.read(file, key, dtype)
                    : device.to(Tensors.read(file, key), dtype);
            t.retainReference();
            taken.put(key, t);
            return t;
        }
    }

    @Override
    public Map<String, Tensor> taken() {
        return Collections.unmodifiableMap(taken);
    }

    /** Keys of the file that no model component asked for. */
    public Set<String> unusedKeys() {
        Set<String> s = new LinkedHashSet<>(file.keys());
        s.removeAll(taken.keySet());
        return s;
    }
}
