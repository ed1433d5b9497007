package dev.ldm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.ModelFileException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.function.Supplier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Exit codes and messages: the user's mistakes are one line and 2; a bug is one line and 1, its trace on -v. */
class ErrorsTest {
    /** A command that fails the way its test says. */
    @Command(name = "failing")
    static final class Failing implements Runnable {
        @Option(names = {"-v", "--verbose"})
        boolean verbose;

        final Supplier<Throwable> failure;

        Failing(Supplier<Throwable> failure) {
            this.failure = failure;
        }

        @Override
        public void run() {
            Throwable t = failure.get();
            if (t instanceof Error e) {
                throw e;
            }
            throw (RuntimeException) t;
        }
    }

    record Run(int code, String err) {}

    static Run run(Supplier<Throwable> failure, String... args) {
        StringWriter err = new StringWriter();
        int code = Main.execute(new Failing(failure), new PrintWriter(new StringWriter(), true),
                new PrintWriter(err, true), args);
        return new Run(code, err.toString());
    }

    @BeforeAll
    static void noDebugEnvironment() {
        Assumptions.assumeTrue(System.getenv("LDM4J_DEBUG") == null, "LDM4J_DEBUG prints every stack trace");
    }

    @Test
    void aBugIsOneLineAndExitOneWithoutItsTrace() {
        Run r = run(() -> new IllegalStateException("the plan has no steps"));
        assertEquals(Errors.FAILURE, r.code());
        assertEquals("ldm4j: internal error: IllegalStateException: the plan has no steps (-v shows the stack trace)",
                r.err().strip());
        // a failed argument check inside the code is a bug too, not the user's mistake
        assertEquals(Errors.FAILURE, run(() -> new IllegalArgumentException("negative dimension")).code());
        Run npe = run(NullPointerException::new);
        assertEquals("ldm4j: internal error: NullPointerException (-v shows the stack trace)", npe.err().strip());
        Run oom = run(() -> new OutOfMemoryError("Java heap space"));
        assertEquals(Errors.FAILURE, oom.code());
        assertEquals(1, oom.err().strip().lines().count(), oom.err());
        // libtorch's messages carry their own backtrace after the first line
        Run nativeError = run(() -> new RuntimeException("shape mismatch\nException raised from ... \nframe #0: ..."));
        assertEquals("ldm4j: internal error: RuntimeException: shape mismatch (-v shows the stack trace)",
                nativeError.err().strip());
    }

    @Test
    void verboseAddsTheStackTrace() {
        Run r = run(() -> new IllegalStateException("boom"), "-v");
        assertEquals(Errors.FAILURE, r.code());
        assertTrue(r.err().startsWith("ldm4j: internal error: IllegalStateException: boom\n"), r.err());
        assertTrue(r.err().contains("\tat dev.ldm4j.cli.ErrorsTest"), r.err());
        Run error = run(() -> new StackOverflowError(), "--verbose");
        assertTrue(error.err().contains("\tat "), error.err());
    }

    @Test
    void theUsersMistakesAreOneLineAndExitTwo() {
        Run bad = run(() -> new BadRequestException("steps must be at least 1, got 0"), "-v");
        assertEquals(Errors.BAD_INPUT, bad.code());
        assertEquals("ldm4j: error: steps must be at least 1, got 0", bad.err().strip());
        Run file = run(() -> new ModelFileException("m.safetensors: not a safetensors file"));
        assertEquals(Errors.BAD_INPUT, file.code());
        assertFalse(file.err().contains("internal"), file.err());
    }

    @Test
    void theTopCommandTakesVerboseToo() {
        StringWriter out = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true),
                "-v", "generate", "--help"));
        assertTrue(out.toString().contains("--sampling-method"), out.toString());
    }
}
