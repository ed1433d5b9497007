package dev.ldm4j.cli;

import dev.ldm4j.data.DatasetException;
import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.io.ImageFileException;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.OutputFileException;
import dev.ldm4j.model.UnsupportedModelException;
import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * Turns failures into one line on stderr and an exit code. 2 for what the user can fix: a bad request
 * ({@link BadRequestException}, which the CLI's own {@link BadInputException} is) or a bad file (model, image,
 * output, dataset). 1 for anything else, which is a bug, however it looks ({@link IllegalArgumentException},
 * {@link IllegalStateException}, a NullPointerException, an OutOfMemoryError): "internal error", and its
 * stack trace under {@code -v}/{@code --verbose} ({@code LDM4J_DEBUG=1} shows the trace of every failure).
 */
final class Errors implements CommandLine.IExecutionExceptionHandler {
    static final int BAD_INPUT = 2;
    static final int FAILURE = 1;

    @Override
    public int handleExecutionException(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        return report(e, cl.getErr(), verbose(parsed));
    }

    /** Writes the line (and the trace where asked) for {@code e} and returns the exit code. */
    static int report(Throwable e, PrintWriter err, boolean verbose) {
        boolean debug = System.getenv("LDM4J_DEBUG") != null;
        if (userError(e)) {
            err.println("ldm4j: error: " + capped(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
            if (debug) {
                e.printStackTrace(err);
            }
            err.flush();
            return BAD_INPUT;
        }
        if (e instanceof OutOfMemoryError) {
            err.println("ldm4j: error: out of memory (" + e.getMessage() + "); give the JVM more (-Xmx in "
                    + "LDM4J_JAVA_OPTS) or ask for less (a smaller -W/-H or -b, --precision bf16, --vae-tiling)");
            if (verbose || debug) {
                e.printStackTrace(err);
            }
            err.flush();
            return FAILURE;
        }
        // a native error's message goes on with libtorch's own backtrace: its first line says what happened
        String message = e.getMessage() == null ? "" : e.getMessage().strip().lines().findFirst().orElse("");
        err.println("ldm4j: internal error: " + e.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + capped(message))
                + (verbose || debug ? "" : " (-v shows the stack trace)"));
        if (verbose || debug) {
            e.printStackTrace(err);
        }
        err.flush();
        return FAILURE;
    }

    /** Longest message shown: a message that echoes a user's 10 MB value must not flood the terminal. */
    static final int MAX_MESSAGE = 400;

    static String capped(String message) {
        String line = message.strip().replace('\n', ' ');
        return line.length() <= MAX_MESSAGE ? line
                : line.substring(0, MAX_MESSAGE) + "... (" + (line.length() - MAX_MESSAGE) + " more characters)";
    }

    static boolean userError(Throwable e) {
        return e instanceof BadRequestException || e instanceof ModelFileException
                || e instanceof UnsupportedModelException || e instanceof ImageFileException
                || e instanceof OutputFileException || e instanceof DatasetException;
    }

    /** Whether {@code -v}/{@code --verbose} was given to the top command or the subcommand that ran. */
    static boolean verbose(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }
}
