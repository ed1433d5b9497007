package dev.ldm4j.io;

/** Element types of a safetensors file, spelled as in its header. */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int byteSize() {
        return bytes;
    }

    /** The header spelling to a type, or null when the spelling is unknown. */
    static DType parse(String s) {
        for (DType d : values()) {
            if (d.name().equals(s)) {
                return d;
            }
        }
        return null;
    }
}
