package dev.ldm4j.spark;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark session of a batch job. In local mode ({@code local[N]}) the driver JVM is the one executor, so it
 * runs one task at a time with N CPUs ({@code spark.task.cpus = N}): one generation at a time, on all the
 * threads it was given; the web UI is off and everything binds to the loopback address. On a cluster the
 * cluster's settings stand ({@code spark.executor.cores} = {@code spark.task.cpus} for one task per executor).
 */
public final class BatchSession implements AutoCloseable {
    private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\*|\\d+)(?:,\\d+)?])?");

    private final SparkSession session;
    private final boolean created;

    private BatchSession(SparkSession session, boolean created) {
        this.session = session;
        this.created = created;
    }

    /**
     * The running session of this JVM when there is one (a test's, a notebook's: closing leaves it running), else
     * a new one on {@code master} (null: spark-submit's master, else {@code local[*]}) with {@code conf} added.
     */
    public static BatchSession open(String master, Map<String, String> conf) {
        scala.Option<SparkSession> active = SparkSession.getActiveSession();
        if (active.isDefined()) {
            return new BatchSession(active.get(), false);
        }
        scala.Option<SparkSession> fallback = SparkSession.getDefaultSession();
        if (fallback.isDefined()) {
            return new BatchSession(fallback.get(), false);
        }
        return new BatchSession(create(master, conf), true);
    }

    /** A new session (or the running one) with ldm4j's settings; see the class comment. */
    public static SparkSession create(String master, Map<String, String> conf) {
        SparkConf c = new SparkConf().setAppName("ldm4j batch");
        if (master != null) {
            c.setMaster(master);
        } else if (!c.contains("spark.master")) {
            c.setMaster("local[*]");
        }
        conf.forEach(c::set);
        Matcher local = LOCAL.matcher(c.get("spark.master"));
        if (local.matches()) {
            String n = local.group(1);
            int cpus = n == null ? 1 : n.equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(n);
            c.setIfMissing("spark.task.cpus", Integer.toString(Math.max(1, cpus)));
            c.setIfMissing("spark.ui.enabled", "false");
            c.setIfMissing("spark.driver.host", "127.0.0.1");
            c.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
            // the results table is small: 200 shuffle partitions would be 200 tasks for a few rows
            c.setIfMissing("spark.sql.shuffle.partitions", "4");
        }
        c.setIfMissing("spark.ui.showConsoleProgress", "false");
        return SparkSession.builder().config(c).getOrCreate();
    }

    public SparkSession session() {
        return session;
    }

    /** Stops the session when this opened it. */
    @Override
    public void close() {
        if (created) {
            session.stop();
        }
    }
}
