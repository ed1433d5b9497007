package dev.ldm4j.nn;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Random parameters of the right shapes, for benchmarks of full-size architectures without a file and as
 * the starting point of training from scratch. Matrices and kernels are normal with std 1/sqrt(fan_in),
 * 1-D weights (norm scales) are 1, biases 0, so activations stay O(1) through deep stacks.
 */
public final class RandomSource implements ParameterSource {
    private final Generator generator;
    private final ScalarType dtype;
    private final ComputeDevice device;
    private final Map<String, Tensor> taken = new LinkedHashMap<>();

    public RandomSource(long seed, ScalarType dtype) {
        this(seed, dtype, ComputeDevice.CPU);
    }

    /** Parameters drawn on the CPU (the same numbers on every device), then put on {@code device}. */
    public RandomSource(long seed, ScalarType dtype, ComputeDevice device) {
        Torch.load();
        this.generator = torch.createCPUGenerator(seed);
        this.generator.retainReference();
        this.dtype = dtype;
        this.device = device;
    }

    @Override
    public boolean has(String key) {
        return false;
    }

    @Override
    public Tensor get(String key, long[] shape) {
        // the float32 draw is a temporary when the dtype is not float32: free it now, not at some GC
        try (PointerScope scope = new PointerScope()) {
            Tensor t = draw(key, shape);
            t.retainReference();
            taken.put(key, t);
            return t;
        }
    }

    private Tensor draw(String key, long[] shape) {
        Tensor t;
        if (shape.length >= 2) {
            long fanIn = 1;
            for (int i = 1; i < shape.length; i++) {
                fanIn *= shape[i];
            }
            t = torch.randn(shape, new GeneratorOptional(generator), Tensors.options(ScalarType.Float))
                    .mul_(new org.bytedeco.pytorch.Scalar(1.0 / Math.sqrt(fanIn)));
        } else if (key.endsWith("bias")) {
            t = torch.zeros(shape, Tensors.options(ScalarType.Float));
        } else {
            t = torch.ones(shape, Tensors.options(ScalarType.Float));
        }
        return device.to(t, dtype);
    }

    @Override
    public Map<String, Tensor> taken() {
        return Collections.unmodifiableMap(taken);
    }
}
