package dev.ldm4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.DType;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/** The one parser of precisions, its dtypes, and the messages of a setting that offers only some. */
class PrecisionTest {
    @Test
    void everySpellingNamesItsPrecision() {
        for (String s : new String[] {"fp32", "float32", "f32", "float", " FP32 "}) {
            assertEquals(Precision.FP32, Precision.parse(s), s);
        }
        for (String s : new String[] {"bf16", "bfloat16", "BF16"}) {
            assertEquals(Precision.BF16, Precision.parse(s), s);
        }
        for (String s : new String[] {"fp16", "float16", "f16", "half"}) {
            assertEquals(Precision.FP16, Precision.parse(s), s);
        }
        for (Precision p : Precision.values()) {
            assertEquals(p, Precision.parse(p.cliName()));
        }
    }

    @Test
    void dtypesInLibtorchAndSafetensors() {
        assertEquals(ScalarType.Float, Precision.FP32.scalarType());
        assertEquals(ScalarType.BFloat16, Precision.BF16.scalarType());
        assertEquals(ScalarType.Half, Precision.FP16.scalarType());
        for (Precision p : Precision.values()) {
            assertEquals(p.dtype(), Tensors.dtype(p.scalarType()), p.cliName());
        }
        assertEquals(DType.F16, Precision.parse("half").dtype());
    }

    @Test
    void messagesNameTheSettingAndItsValidValues() {
        BadRequestException unknown = assertThrows(BadRequestException.class, () -> Precision.parse("fp8"));
        assertEquals("unknown precision 'fp8'; valid: fp32, bf16, fp16", unknown.getMessage());
        BadRequestException offered = assertThrows(BadRequestException.class,
                () -> Precision.parse("half", "training", Precision.FP32, Precision.BF16));
        assertEquals("training precision fp16 is not supported; valid: fp32, bf16", offered.getMessage());
        BadRequestException none = assertThrows(BadRequestException.class,
                () -> Precision.parse(null, "checkpoint", Precision.values()));
        assertTrue(none.getMessage().startsWith("unknown checkpoint precision 'null'"), none.getMessage());
    }
}
