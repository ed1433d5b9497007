package dev.ldm4j.spark;

import java.io.PrintWriter;
import java.util.Locale;
import org.apache.spark.util.LongAccumulator;

/**
 * The driver's progress line: rows done of the total, rows per minute and the time left, printed when the count
 * changes (Spark merges a task's counts when the task ends; by default a task holds one row). Skipped rows
 * (their image exists) count as done but not in the rate, which is that of the rows that needed work.
 */
final class BatchProgress implements AutoCloseable {
    private static final long POLL_MILLIS = 500;

    private final PrintWriter err;
    private final long total;
    private final LongAccumulator done;
    private final LongAccumulator skipped;
    private final LongAccumulator failed;
    private final long start = System.nanoTime();
    private final Thread thread;
    private long shown;

    BatchProgress(PrintWriter err, long total, LongAccumulator done, LongAccumulator skipped, LongAccumulator failed) {
        this.err = err;
        this.total = total;
        this.done = done;
        this.skipped = skipped;
        this.failed = failed;
        this.thread = new Thread(this::poll, "ldm4j-batch-progress");
        thread.setDaemon(true);
        thread.start();
    }

    private void poll() {
        try {
            while (!Thread.currentThread().isInterrupted()) {
                Thread.sleep(POLL_MILLIS);
                show();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized void show() {
        long d = done.value();
        if (d == shown) {
            return;
        }
        shown = d;
        err.println(line(d, skipped.value(), failed.value(), total, (System.nanoTime() - start) / 1e9));
        err.flush();
    }

    /** "batch: 3/6 rows (1 skipped, 0 failed), 12.5 rows/min, ETA 0:00:14". */
    static String line(long done, long skipped, long failed, long total, double seconds) {
        long worked = done - skipped;
        double perMinute = seconds > 0 ? worked * 60.0 / seconds : 0;
        String eta = done >= total ? "done" : perMinute > 0 ? "ETA " + clock((total - done) * 60.0 / perMinute) : "ETA --";
        return String.format(Locale.ROOT, "batch: %d/%d rows (%d skipped, %d failed), %.1f rows/min, %s",
                done, total, skipped, failed, perMinute, eta);
    }

    private static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }

    /** Stops polling; shows the last count if it was not shown yet. */
    @Override
    public void close() {
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        show();
    }
}
