package dev.ldm4j.sampling;

import dev.ldm4j.nn.Torch;
import dev.ldm4j.nn.Tensors;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The stream of standard normal draws behind a seed: libtorch's CPU generator (mt19937 + Box-Muller), so
 * {@code new SeededNoise(s).randn(shape)} equals {@code torch.manual_seed(s); torch.randn(shape)} in PyTorch,
 * and later draws continue the same stream. This is the reproducibility contract with diffusers' CPU
 * generator. Not thread-safe: one per request.
 */
public final class SeededNoise implements AutoCloseable {
    private final long seed;
    private final Generator generator;

    public SeededNoise(long seed) {
        Torch.load();
        this.seed = seed;
        this.generator = torch.createCPUGenerator(seed);
        this.generator.retainReference();
    }

    public long seed() {
        return seed;
    }

    /** The next draw of the stream, float32, filled in row-major order. */
    public Tensor randn(long... shape) {
        return torch.randn(shape, new GeneratorOptional(generator), Tensors.options(ScalarType.Float));
    }

    @Override
    public void close() {
        generator.releaseReference();
    }
}
