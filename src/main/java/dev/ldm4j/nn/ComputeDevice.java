package dev.ldm4j.nn;

import dev.ldm4j.io.BadRequestException;
import java.util.Locale;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Where a model's weights live and its heavy ops run. Components take and return CPU tensors and move them
 * at their own boundary (a step's latents are a few hundred kilobytes), so samplers, noise and images stay
 * on the CPU: the seed contract (PyTorch's CPU generator) holds on every device.
 */
public enum ComputeDevice {
    CPU(DeviceType.CPU),
    CUDA(DeviceType.CUDA);

    private final DeviceType type;

    ComputeDevice(DeviceType type) {
        this.type = type;
    }

    /** {@code cpu}, {@code cuda}, or {@code auto} / null / empty: {@link #auto()}. */
    public static ComputeDevice parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "", "auto" -> auto();
            case "cpu" -> CPU;
            case "cuda", "gpu" -> requireCuda();
            default -> throw new BadRequestException("unknown device '" + name + "' (auto, cpu, cuda)");
        };
    }

    /** CUDA when this build of libtorch has it and a GPU is visible, else the CPU. */
    public static ComputeDevice auto() {
        Torch.load();
        return torch.cuda_is_available() ? CUDA : CPU;
    }

    private static ComputeDevice requireCuda() {
        Torch.load();
        if (!Torch.gpuNatives()) {
            throw new BadRequestException("this build of ldm4j has the CPU-only libtorch; build it with "
                    + "./mvnw -Pgpu package (the CUDA natives) to run on a GPU");
        }
        if (!torch.hasCUDA()) {
            throw new BadRequestException("libtorch's CUDA part did not load: it needs the NVIDIA driver and "
                    + "the CUDA 13.1 libraries that Maven does not ship (cuBLAS, cuSPARSE, cuSOLVER, cuDNN 9) on the "
                    + "library path (LD_LIBRARY_PATH)");
        }
        if (!torch.cuda_is_available()) {
            throw new BadRequestException("no CUDA GPU is visible to libtorch (driver missing, or "
                    + "CUDA_VISIBLE_DEVICES hides them)");
        }
        return CUDA;
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** A new libtorch device object (freed with the enclosing pointer scope). */
    public Device torchDevice() {
        return new Device(type);
    }

    /** {@code t} on this device in {@code dtype}; the same tensor when it already is. */
    public Tensor to(Tensor t, ScalarType dtype) {
        return t.to(torchDevice(), dtype);
    }

    /** The device a tensor lives on. */
    public static ComputeDevice of(Tensor t) {
        return t.is_cuda() ? CUDA : CPU;
    }

    /** {@code t} as a float32 CPU tensor: what components hand back. */
    public static Tensor toCpuFloat(Tensor t) {
        return CPU.to(t, ScalarType.Float);
    }
}
