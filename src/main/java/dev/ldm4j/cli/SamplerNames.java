package dev.ldm4j.cli;

import dev.ldm4j.sampling.Samplers;
import java.util.Iterator;

/**
 * The sampler names for picocli's {@code ${COMPLETION-CANDIDATES}} in {@code --sampling-method} help and shell
 * completion, read from the sampling package's registry, so that no command lists them itself.
 */
final class SamplerNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
        return Samplers.names().iterator();
    }
}
