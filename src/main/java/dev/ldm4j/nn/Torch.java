package dev.ldm4j.nn;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;

/**
 * The one place that loads libtorch.
 *
 * <p>On a fresh JavaCPP cache the first load of libtorch crashes the JVM while the natives are being
 * extracted lazily. Extracting the whole native folder first, then loading, avoids it. Every class that
 * touches {@code org.bytedeco.pytorch} calls {@link #load()} first (directly or through a layer).
 */
public final class Torch {
    private static final Object LOCK = new Object();
    private static volatile boolean loaded;

    private Torch() {}

    public static void load() {
        if (loaded) {
            return;
        }
        synchronized (LOCK) {
            if (loaded) {
                return;
            }
            try {
                Loader.cacheResources(torch.class, "/org/bytedeco/pytorch/" + Loader.getPlatform() + "/");
            } catch (java.io.IOException e) {
                throw new IllegalStateException("cannot extract libtorch natives into the JavaCPP cache: " + e.getMessage(), e);
            }
            Loader.load(torch.class);
            loaded = true;
        }
    }
}
