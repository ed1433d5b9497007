package dev.ldm4j.server;

import dev.ldm4j.io.RgbImage;
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
 * <p>A preview of the step's clean-latent prediction ({@link Previews}) is made on the worker after a step, and
 * only while someone asks for one (a progress answer with the current image, an event stream), so an unwatched
 * job pays nothing for it. A decode can cost more than a step, so previews are spaced {@link #PREVIEW_SPACING}
 * times the last one's time apart (and at least {@link #MIN_PREVIEW_NANOS}): under a fifth of the run.
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

    /** A preview and the step it shows (1-based). */
    record Preview(RgbImage image, int step) {}

    /** How long after the last request for one previews are still made. */
    private static final long PREVIEW_INTEREST_NANOS = 5_000_000_000L;

    private Snapshot state = new Snapshot(false, "", 0, 0, 0, 0, false, 0);
    private Preview preview;
    /** The iteration {@link #skip} asked to drop, or -1. */
    private int skipIteration = -1;
    private long nextPreviewNanos;
    private boolean previewFailed;
    /** Who started the running job (a request, a queued job): a cancel names it, so it never hits the next one. */
    private Object owner;
    /** When a preview was last asked for; made long enough ago (not Long.MIN_VALUE: now minus it overflows). */
    private long previewWantedAt = System.nanoTime() - PREVIEW_INTEREST_NANOS;

    synchronized Snapshot snapshot() {
        return state;
    }

    synchronized void start(String job, int iterations, Object owner) {
        state = new Snapshot(true, job, 0, iterations, 0, 0, false, System.nanoTime());
        preview = null;
        nextPreviewNanos = System.nanoTime();
        previewFailed = false;
        skipIteration = -1;
        this.owner = owner;
    }

    /** Whether the running job is {@code owner}'s. */
    synchronized boolean runs(Object owner) {
        return state.running() && this.owner == owner;
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
        preview = null;
        owner = null;
    }

    /** The latest preview of the running job, or null; also asks for previews of the next steps. */
    synchronized Preview preview() {
        previewWantedAt = System.nanoTime();
        return state.running() ? preview : null;
    }

    private synchronized boolean previewDue() {
        long now = System.nanoTime();
        return !previewFailed && now - previewWantedAt < PREVIEW_INTEREST_NANOS && now - nextPreviewNanos >= 0;
    }

    private synchronized void preview(RgbImage image, int step, long tookNanos) {
        if (state.running() && image != null) {
            preview = new Preview(image, step);
        }
        nextPreviewNanos = System.nanoTime() + Math.max(MIN_PREVIEW_NANOS, PREVIEW_SPACING * tookNanos);
    }

    private synchronized void previewFailed() {
        previewFailed = true;
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

    /** Stops the running job only if it is {@code owner}'s: a cancel never hits the job that came after. */
    synchronized boolean interrupt(Object owner) {
        return runs(owner) && interrupt();
    }

    synchronized boolean interrupted() {
        return state.running() && state.interrupted();
    }

    /**
     * Asks the running job to drop the iteration it is in and go on with the next (A1111's skip); false when
     * none runs.
     */
    synchronized boolean skip() {
        if (!state.running()) {
            return false;
        }
        skipIteration = state.iteration();
        return true;
    }

    /** Whether the iteration running now is to be skipped. */
    synchronized boolean skipped() {
        return state.running() && skipIteration == state.iteration();
    }

    /** The listener of one sampler run of the current job; {@code previews} draws a step's prediction. */
    StepListener listener(Function<Tensor, RgbImage> previews) {
        return new StepListener() {
            @Override
            public Tensor beforeStep(int index, Tensor latent) {
                if (interrupted() || skipped()) {
                    throw new Interrupted();
                }
                return latent;
            }

            @Override
            public void afterStep(Step s) {
                step(s.index() + 1, s.count());
                // the last step's preview would come with the image itself
                if (s.denoised() != null && s.index() + 1 < s.count() && previewDue()) {
                    long t0 = System.nanoTime();
                    try {
                        preview(previews.apply(s.denoised()), s.index() + 1, System.nanoTime() - t0);
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
