package dev.ldm4j.model;

import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.io.TensorInfo;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Torch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A parameter source that reads nothing: it lets the model classes ask for every key they need and records
 * which are missing or mis-shaped, so {@code ldm4j info} can list them without loading gigabytes. The
 * tensors it hands out are uninitialised (never touched, so they cost address space, not memory).
 */
final class KeyAudit implements dev.ldm4j.nn.ParameterSource {
    private final SafetensorsFile file;
    private final Map<String, Tensor> taken = new LinkedHashMap<>();
    private final List<String> missing = new ArrayList<>();
    private final List<String> misShaped = new ArrayList<>();

    KeyAudit(SafetensorsFile file) {
        Torch.load();
        this.file = file;
    }

    @Override
    public boolean has(String key) {
        return file.has(key);
    }

    @Override
    public Tensor get(String key, long[] shape) {
        if (!file.has(key)) {
            missing.add(key + " " + Arrays.toString(shape));
        } else {
            TensorInfo info = file.info(key);
            if (!Arrays.equals(info.shape(), shape)) {
                misShaped.add(key + ": file " + Arrays.toString(info.shape()) + ", config " + Arrays.toString(shape));
            }
        }
        Tensor t = torch.empty(shape, Tensors.options(ScalarType.Float), new MemoryFormatOptional());
        taken.put(key, t);
        return t;
    }

    @Override
    public Map<String, Tensor> taken() {
        return Collections.unmodifiableMap(taken);
    }

    List<String> missing() {
        return missing;
    }

    List<String> misShaped() {
        return misShaped;
    }

    Set<String> unused() {
        Set<String> s = new LinkedHashSet<>(file.keys());
        s.removeAll(taken.keySet());
        return s;
    }
}
