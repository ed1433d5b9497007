package dev.ldm4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.ldm4j.io.BadRequestException;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

class ComputeDeviceTest {
    @Test
    void parsesNamesAndRefusesUnknownOnes() {
        assertEquals(ComputeDevice.CPU, ComputeDevice.parse("cpu"));
        assertEquals(ComputeDevice.CPU, ComputeDevice.parse(" CPU "));
        assertEquals(ComputeDevice.auto(), ComputeDevice.parse("auto"));
        assertEquals(ComputeDevice.auto(), ComputeDevice.parse(null));
        BadRequestException e = assertThrows(BadRequestException.class, () -> ComputeDevice.parse("tpu"));
        assertTrue(e.getMessage().contains("auto, cpu, cuda"), e.getMessage());
    }

    @Test
    void cudaOnTheCpuBuildSaysHowToGetIt() {
        Torch.load();
        assumeFalse(torch.cuda_is_available(), "a GPU is visible here");
        BadRequestException e = assertThrows(BadRequestException.class, () -> ComputeDevice.parse("cuda"));
        String expected = !Torch.gpuNatives() ? "-Pgpu" : torch.hasCUDA() ? "no CUDA GPU" : "LD_LIBRARY_PATH";
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertEquals(ComputeDevice.CPU, ComputeDevice.auto());
    }

    @Test
    void cpuMovesAreNoCopiesAndResultsComeBackAsFloat() {
        Torch.load();
        try (PointerScope scope = new PointerScope()) {
            Tensor f = torch.ones(new long[] {2, 3}, Tensors.options(ScalarType.Float));
            Tensor same = ComputeDevice.CPU.to(f, ScalarType.Float);
            assertEquals(f.data_ptr().address(), same.data_ptr().address());
            Tensor half = ComputeDevice.CPU.to(f, ScalarType.BFloat16);
            assertEquals(ScalarType.BFloat16, Tensors.scalarType(half));
            Tensor back = ComputeDevice.toCpuFloat(half);
            assertEquals(ScalarType.Float, Tensors.scalarType(back));
            assertEquals(ComputeDevice.CPU, ComputeDevice.of(back));
            assertEquals(6.0, back.sum().item().toDouble(), 0.0);
        }
    }
}
