package dev.ldm4j.io;

import java.util.Arrays;

/**
 * One entry of a safetensors header; offsets are relative to the start of the data section (which is the
 * start of the file for a PyTorch checkpoint, whose tensors lie where its storages are).
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {
    public long numel() {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }

    public long byteSize() {
        return end - begin;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
