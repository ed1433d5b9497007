package dev.ldm4j.nn;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;

/**
 * The one place that loads libtorch.
 *
 * <p>On a fresh JavaCPP cache the first load of libtorch crashes the JVM while the natives are being
 * extracted lazily. Extracting the whole native folder first, then loading, avoids it. Every class that
 * touches {@code org.bytedeco.pytorch} calls {@link #load()} first (directly or through a layer). With the
 * CUDA build on the classpath ({@code ./mvnw -Pgpu package}) its natives are the ones extracted and loaded.
 */
public final class Torch {
    private static final Object LOCK = new Object();
    private static volatile boolean loaded;

    private static final String EXTENSION = "org.bytedeco.javacpp.platform.extension";
    private static final String GPU = "-gpu";

    private Torch() {}

    /** Whether the classpath has libtorch's CUDA build (the {@code gpu} Maven profile) instead of the CPU one. */
    public static boolean gpuNatives() {
        return torch.class.getResource("/org/bytedeco/pytorch/" + Loader.getPlatform() + GPU + "/libjnitorch.so") != null;
    }

    public static void load() {
        if (loaded) {
            return;
        }
        synchronized (LOCK) {
            if (loaded) {
                return;
            }
            String natives = Loader.getPlatform() + (gpuNatives() ? GPU : "");
            if (gpuNatives() && System.getProperty(EXTENSION) == null) {
                // JavaCPP looks for the CUDA build's natives only under this extension
                System.setProperty(EXTENSION, GPU);
            }
            try {
                Loader.cacheResources(torch.class, "/org/bytedeco/pytorch/" + natives + "/");
            } catch (java.io.IOException e) {
                throw new IllegalStateException("cannot extract libtorch natives into the JavaCPP cache: " + e.getMessage(), e);
            }
            NativeSettings.beforeLoad();
            Loader.load(torch.class);
            NativeSettings.afterLoad();
            loaded = true;
        }
    }
}
