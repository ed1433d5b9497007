package dev.ldm4j.cli;

import dev.ldm4j.sampling.Scheduler;
import java.util.Arrays;
import java.util.Iterator;

/** The scheduler names for picocli's {@code ${COMPLETION-CANDIDATES}}: the help lists what exists. */
final class SchedulerNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
        return Arrays.stream(Scheduler.values()).map(Scheduler::cliName).iterator();
    }
}
