package dev.ldm4j.nn;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.Map;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.bytedeco.pytorch.global.torch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process settings that decide ldm4j's speed and its terminal, made from inside the JVM when libtorch is
 * loaded, so that a Java user gets them without an environment of their own (the {@code ./ldm4j} launcher
 * sets nothing). A setting the user made in the environment wins every time.
 *
 * <ul>
 *   <li>glibc malloc ({@code mallopt}; each setting unless its {@code MALLOC_*} variable is set, none with
 *       {@code LDM4J_MALLOC=default}): one arena, no trimming, a 32 MB mmap threshold, 512 MB of top padding.
 *       Without it freed activation buffers go back to the kernel and are faulted in again zeroed by the next
 *       op: 18-24% of a UNet step was page faults on 2 cores (docs/benchmarks.md). The arena limit only binds
 *       threads that have not allocated yet: the JVM's main thread already has its own arena, so
 *       {@code MALLOC_ARENA_MAX=1} in the environment (the launcher sets it) is still worth 20-25%.</li>
 *   <li>OpenBLAS one thread (unless {@code OPENBLAS_NUM_THREADS} is set): libtorch runs its ops on an
 *       OpenMP pool; OpenBLAS's own threads on top of it fight for the same cores (an fp32 UNet step 2-3x
 *       slower on 2 cores).</li>
 *   <li>libtorch's intra-op threads = the cores the JVM sees (unless {@code OMP_NUM_THREADS} is set):
 *       libtorch counts physical cores from the CPU topology, which some VMs hide, and then runs on one.</li>
 *   <li>{@code LDM4J_ONEDNN=off}: libtorch's own kernels instead of oneDNN's from the start (what a failed
 *       {@link Kernels} check switches to).</li>
 *   <li>NNPACK off: ldm4j never wants it (oneDNN or libtorch's own kernels run every convolution), and on a
 *       CPU whose caches it cannot read libtorch logs "Could not initialize NNPACK" at every convolution.</li>
 * </ul>
 */
final class NativeSettings {
    private static final Logger LOG = LoggerFactory.getLogger(NativeSettings.class);

    // glibc's <malloc.h>
    private static final int M_TRIM_THRESHOLD = -1;
    private static final int M_TOP_PAD = -2;
    private static final int M_MMAP_THRESHOLD = -3;
    private static final int M_ARENA_MAX = -8;

    private NativeSettings() {}

    /** glibc's mallopt, the only libc call ldm4j makes. */
    interface LibC extends Library {
        int mallopt(int param, int value);
    }

    /** Before libtorch is loaded: the allocator settings, which glibc applies to the arenas made from now on. */
    static void beforeLoad() {
        Map<String, String> env = System.getenv();
        if ("default".equals(env.get("LDM4J_MALLOC")) || !System.getProperty("os.name", "").startsWith("Linux")) {
            return;
        }
        try {
            LibC c = Native.load("c", LibC.class);
            // each setting unless the environment made it; -1 switches trimming off (glibc reads the int as
            // size_t), 32 MB is glibc's largest mmap threshold
            boolean ok = set(c, env, "MALLOC_ARENA_MAX", M_ARENA_MAX, 1)
                    & set(c, env, "MALLOC_TRIM_THRESHOLD_", M_TRIM_THRESHOLD, -1)
                    & set(c, env, "MALLOC_MMAP_THRESHOLD_", M_MMAP_THRESHOLD, 32 << 20)
                    & set(c, env, "MALLOC_TOP_PAD_", M_TOP_PAD, 512 << 20);
            if (!ok) {
                LOG.debug("glibc refused some malloc settings; running with its defaults for those");
            }
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            LOG.debug("no glibc mallopt here ({}); malloc keeps its defaults", e.toString());
        }
    }

    private static boolean set(LibC c, Map<String, String> env, String variable, int param, int value) {
        return env.containsKey(variable) || c.mallopt(param, value) == 1;
    }

    /** After libtorch is loaded. */
    static void afterLoad() {
        Map<String, String> env = System.getenv();
        torch.globalContext().setUserEnabledNNPACK(false);
        if ("off".equals(env.get("LDM4J_ONEDNN"))) {
            // what a failed kernel check switches to, on request (to measure it, or to distrust oneDNN)
            torch.globalContext().setUserEnabledMkldnn(false);
        }
        if (!env.containsKey("OPENBLAS_NUM_THREADS")) {
            openblas_nolapack.blas_set_num_threads(1);
        }
        int cores = Runtime.getRuntime().availableProcessors();
        if (!env.containsKey("OMP_NUM_THREADS") && torch.get_num_threads() < cores) {
            torch.set_num_threads(cores);
        }
    }
}
