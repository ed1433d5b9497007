package dev.ldm4j.server;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One worker thread and a bounded queue: generations run one at a time (each one uses every core libtorch is
 * given), and a client that finds the queue full is told to come back later instead of waiting unboundedly.
 */
final class GenerationQueue implements AutoCloseable {
    /** The queue is full; the client should retry (HTTP 503 with Retry-After). */
    static final class Full extends RuntimeException {
        Full(int capacity) {
            super("the generation queue is full (" + capacity + " waiting); retry later", null, false, false);
        }
    }

    private final ThreadPoolExecutor executor;
    private final int capacity;

    GenerationQueue(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("queue capacity must be >= 0, got " + capacity);
        }
        this.capacity = capacity;
        BlockingQueue<Runnable> queue = capacity == 0 ? new SynchronousQueue<>() : new ArrayBlockingQueue<>(capacity);
        executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, queue, r -> {
            Thread t = new Thread(r, "ldm4j-generate");
            t.setDaemon(true);
            return t;
        });
    }

    /** Queues {@code job} for the worker; {@link Full} when the queue is. */
    <T> Future<T> submit(Callable<T> job) {
        try {
            return executor.submit(job);
        } catch (RejectedExecutionException e) {
            throw new Full(capacity);
        }
    }

    /** Takes a job that has not started out of the queue; false when it has started (or ended). */
    boolean withdraw(Future<?> job) {
        return job instanceof Runnable r && executor.remove(r) && job.cancel(false);
    }

    /** Runs {@code job} on the worker and waits for it; its exception is rethrown as it was thrown. */
    <T> T run(Callable<T> job) throws InterruptedException {
        return await(submit(job));
    }

    /**
     * Waits for a submitted job; its exception is rethrown as it was thrown, and a job withdrawn from the queue
     * is a {@link java.util.concurrent.CancellationException}.
     */
    static <T> T await(Future<T> future) throws InterruptedException {
        try {
            return future.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
    }

    /** Jobs waiting behind the running one. */
    int waiting() {
        return executor.getQueue().size();
    }

    /** Drops the waiting jobs and waits for the running one (the caller has interrupted it) to end. */
    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
