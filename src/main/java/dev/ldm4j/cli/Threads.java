package dev.ldm4j.cli;

import org.bytedeco.pytorch.global.torch;

/** The {@code -t/--threads} option every command has. */
final class Threads {
    /** What the help text says about the option. */
    static final String HELP = "CPU threads: 1 up to the cores the JVM sees; -1 (or 0) = all of them.";

    private Threads() {}

    /** Checks {@code threads} and gives libtorch that many (libtorch must be loaded); -1 and 0 keep the default. */
    static void apply(int threads) {
        int cores = Runtime.getRuntime().availableProcessors();
        if (threads < -1) {
            throw new BadInputException("-t/--threads must be -1 (all cores) or 1.." + cores + ", got " + threads);
        }
        if (threads > cores) {
            // more threads than cores only makes every op wait for the ones that did not get a core
            throw new BadInputException("-t/--threads " + threads + " is more than the " + cores + " cores this "
                    + "machine gives the JVM; use 1.." + cores + " (or -1 for all)");
        }
        if (threads > 0) {
            torch.set_num_threads(threads);
        }
    }
}
