package dev.ldm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.sampling.Samplers;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** Help texts that are built from the code's own lists rather than written out by hand. */
class HelpTest {
    @Test
    void samplingMethodHelpListsEverySampler() {
        for (String command : new String[] {"generate", "eval"}) {
            StringWriter out = new StringWriter();
            assertEquals(0, Main.run(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true),
                    command, "--help"));
            String help = out.toString().replaceAll("\\s+", " ");
            assertTrue(help.contains(String.join(", ", Samplers.names())), command + ": " + help);
        }
    }
}
