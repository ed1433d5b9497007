package dev.ldm4j.io;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;

/**
 * Unmaps a memory-mapped buffer now. Java 17 has no public call for it (a mapping goes when its buffer is
 * collected); {@code sun.misc.Unsafe.invokeCleaner}, in the {@code jdk.unsupported} module that the class path
 * can read, is the documented way. Where it is missing the mapping is left to the GC, as before.
 */
final class Unmapper {
    private static final sun.misc.Unsafe UNSAFE = find();

    private Unmapper() {}

    static void unmap(ByteBuffer mapped) {
        if (UNSAFE != null && mapped.isDirect()) {
            UNSAFE.invokeCleaner(mapped);
        }
    }

    private static sun.misc.Unsafe find() {
        try {
            Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            return (sun.misc.Unsafe) f.get(null);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }
}
