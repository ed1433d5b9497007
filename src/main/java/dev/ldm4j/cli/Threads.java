package dev.ldm4j.cli;

import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Option;

/** The {@code -t/--threads} option every command has, mixed in with picocli's {@code @Mixin}. */
final class Threads {
    @Option(names = {"-t", "--threads"}, paramLabel = "N", defaultValue = "-1",
            description = "CPU threads: 1 up to the cores the JVM sees; -1 (or 0) = all of them.")
    int threads;

    /** Checks the option and gives libtorch that many threads (libtorch must be loaded); -1 and 0 keep the default. */
    void apply() {
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
