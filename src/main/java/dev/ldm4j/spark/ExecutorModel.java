package dev.ldm4j.spark;

import dev.ldm4j.model.DefaultModel;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.pipeline.Generator;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Function;
import org.bytedeco.pytorch.global.torch;

/**
 * The model of this executor JVM: loaded by the first task that needs it, from the path the job shipped, and
 * used by every later task of any job on this executor; generations run one at a time.
 *
 * <p>This is the one piece of static mutable state in ldm4j (DESIGN.md asks for none). Spark gives the code of a
 * task nothing that outlives the task: a task's closure is deserialised anew for every task, and an executor has
 * no hook that runs once with a job's settings. Loading the model in each task would read gigabytes per partition,
 * and putting the weights in the closure would ship them through the driver. A JVM-wide holder, keyed by what
 * was loaded (model and config path), is Spark's usual answer (as for connection pools); a task asking for
 * another key replaces the model. Holding the lock through the generation keeps one generation at a time, which is
 * what an executor's memory is sized for, whatever {@code spark.executor.cores} says.
 */
final class ExecutorModel {
    /** What a loaded model was loaded from. {@code model} null: ldm4j's default model. */
    record Key(String model, String config) {}

    /** The model did not load: a failure of the executor, not of a row (the task fails, and Spark retries it). */
    static final class LoadFailure extends RuntimeException {
        LoadFailure(RuntimeException cause) {
            super(cause.getMessage(), cause);
        }
    }

    private static final Object LOCK = new Object();
    private static Key loadedKey;
    private static LatentDiffusionModel loaded;

    private ExecutorModel() {}

    /**
     * Runs {@code work} with this JVM's model for {@code key} (loading it first when needed) while no other
     * generation runs here, with libtorch using {@code threads} threads on the calling thread.
     */
    static <T> T run(Key key, int threads, Function<Generator, T> work) {
        synchronized (LOCK) {
            if (!Objects.equals(key, loadedKey)) {
                release();
                Path model = key.model() == null ? DefaultModel.resolve() : Path.of(key.model());
                Path config = key.config() == null ? null : Path.of(key.config());
                try {
                    loaded = ModelLoader.load(new ModelLoader.Options(model, config, null, null));
                } catch (RuntimeException e) {
                    throw new LoadFailure(e);
                }
                loadedKey = key;
            }
            // OpenMP's thread count is a per-thread setting, and each Spark task runs on a thread of its own
            torch.set_num_threads(Math.max(1, threads));
            return work.apply(new Generator(loaded));
        }
    }

    /** Frees the model: a local-mode job ends with it, so that its JVM (the CLI's, a test's) does not keep it. */
    static void release() {
        synchronized (LOCK) {
            if (loaded != null) {
                loaded.close();
                loaded = null;
                loadedKey = null;
            }
        }
    }
}
