package dev.ldm4j.server;

import dev.ldm4j.sampling.Step;
import dev.ldm4j.sampling.StepListener;
import java.util.function.Function;
import org.bytedeco.pytorch.Tensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The progress of the job the worker runs, as {@code /sdapi/v1/progress} reports it, and the way
 * {@code /sdapi/v1/interrupt} stops it: the listener throws {@link Interrupted} at the start of the next step,
 * which unwinds the generator's scopes (native memory is freed by them, not left to the GC).
 *
 * <p>The progress answer's {@code current_image} is a decode of the step's clean-latent prediction, made on the
 * worker after a step, and only while a client asks for it: a decode can cost more than a step, so previews are
 * spaced {@link #PREVIEW_SPACING} times the last decode's time apart (and at least {@link #MIN_PREVIEW_NANOS}),
 * which keeps them under a fifth of the run.
 */
final class JobProgress {
    private static final Logger LOG = LoggerFactory.getLogger(JobProgress.class);
    static final int PREVIEW_SPACING = 4;
    static final long MIN_PREVIEW_NANOS = 200_000_000L;

    /** Thrown inside a sampler run to end it; the worker turns it into an answer. */
    static final class Interrupted extends RuntimeException {
        Interrupted() {
            super("interrupted", null, false, false);
        }
    }

    /** A consistent view for one progress answer. */
    record Snapshot(boolean running, String job, int iteration, int iterations, int step, int steps,
                    boolean interrupted, long startedNanos) {
        /** Done fraction of the whole job, 0..1. */
        double fraction() {
            if (!running || iterations == 0 || steps == 0) {
                return 0;
            }
            return Math.min(1.0, (iteration + (double) step / steps) / iterations);
        }
    }

    private Snapshot state = new Snapshot(false, "", 0, 0, 0, 0, false, 0);
    private String currentImage;
    private boolean previewWanted;
    private long nextPreviewNanos;
    private boolean previewFailed;

    synchronized Snapshot snapshot() {
        return state;
    }

    synchronized void start(String job, int iterations) {
        state = new Snapshot(true, job, 0, iterations, 0, 0, false, System.nanoTime());
        currentImage = null;
        nextPreviewNanos = System.nanoTime();
        previewFailed = false;
    }

    /**
     * The latest preview of the running job (a base64 PNG), or null; {@code wanted} asks the job for the next
     * one, and without it the answer is null (A1111's skip_current_image).
     */
    synchronized String currentImage(boolean wanted) {
        // asked before the job starts too (a client polls as it posts): at most one preview comes of it
        previewWanted |= wanted;
        return wanted && state.running() ? currentImage : null;
    }

    private synchronized boolean previewDue() {
        return previewWanted && !previewFailed && System.nanoTime() - nextPreviewNanos >= 0;
    }

    private synchronized void previewFailed() {
        previewFailed = true;
        previewWanted = false;
    }

    private synchronized void preview(String png, long tookNanos) {
        currentImage = png;
        previewWanted = false;
        nextPreviewNanos = System.nanoTime() + Math.max(MIN_PREVIEW_NANOS, PREVIEW_SPACING * tookNanos);
    }

    synchronized void iteration(int index, int steps) {
        state = new Snapshot(true, state.job(), index, state.iterations(), 0, steps, state.interrupted(),
                state.startedNanos());
    }

    synchronized void step(int step, int steps) {
        state = new Snapshot(true, state.job(), state.iteration(), state.iterations(), step, steps,
                state.interrupted(), state.startedNanos());
    }

    synchronized void finish() {
        state = new Snapshot(false, "", 0, 0, 0, 0, false, 0);
        currentImage = null;
    }

    /** Asks the running job, if any, to stop at its next step; false when none runs. */
    synchronized boolean interrupt() {
        if (!state.running()) {
            return false;
        }
        state = new Snapshot(true, state.job(), state.iteration(), state.iterations(), state.step(), state.steps(),
                true, state.startedNanos());
        return true;
    }

    synchronized boolean interrupted() {
        return state.running() && state.interrupted();
    }

    /**
     * The listener of one sampler run of the current job.
     *
     * @param previewer a clean-latent prediction to a base64 PNG (on the worker, inside the step's scope)
     */
    StepListener listener(Function<Tensor, String> previewer) {
        return new StepListener() {
            @Override
            public Tensor beforeStep(int index, Tensor latent) {
                if (interrupted()) {
                    throw new Interrupted();
                }
                return latent;
            }

            @Override
            public void afterStep(Step s) {
                step(s.index() + 1, s.count());
                if (s.denoised() != null && s.index() + 1 < s.count() && previewDue()) {
                    long t0 = System.nanoTime();
                    try {
                        preview(previewer.apply(s.denoised()), System.nanoTime() - t0);
                    } catch (RuntimeException e) {
                        // a preview is a courtesy: the image must not fail with it; none more for this job
                        LOG.warn("no live preview: {}", e.toString());
                        previewFailed();
                    }
                }
            }
        };
    }
}
