package dev.ldm4j.server;

import dev.ldm4j.sampling.Step;
import dev.ldm4j.sampling.StepListener;
import org.bytedeco.pytorch.Tensor;

/**
 * The progress of the job the worker runs, as {@code /sdapi/v1/progress} reports it, and the way
 * {@code /sdapi/v1/interrupt} stops it: the listener throws {@link Interrupted} at the start of the next step,
 * which unwinds the generator's scopes (native memory is freed by them, not left to the GC).
 */
final class JobProgress {
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

    synchronized Snapshot snapshot() {
        return state;
    }

    synchronized void start(String job, int iterations) {
        state = new Snapshot(true, job, 0, iterations, 0, 0, false, System.nanoTime());
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

    /** The listener of one sampler run of the current job. */
    StepListener listener() {
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
            }
        };
    }
}
