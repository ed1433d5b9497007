package dev.ldm4j.cli;

import dev.ldm4j.io.ImageFileException;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.OutputFileException;
import dev.ldm4j.model.UnsupportedModelException;
import picocli.CommandLine;

/**
 * Turns failures into one line on stderr and an exit code, never a stack trace: 2 for what the user can fix
 * (bad input, a bad or unsupported model file), 1 for anything else. {@code LDM4J_DEBUG=1} shows the trace.
 */
final class Errors implements CommandLine.IExecutionExceptionHandler {
    static final int BAD_INPUT = 2;
    static final int FAILURE = 1;

    @Override
    public int handleExecutionException(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        boolean userError = e instanceof BadInputException || e instanceof ModelFileException
                || e instanceof UnsupportedModelException || e instanceof IllegalArgumentException
                || e instanceof ImageFileException || e instanceof OutputFileException
                || e instanceof dev.ldm4j.data.DatasetException;
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        cl.getErr().println("ldm4j: error: " + msg);
        if (System.getenv("LDM4J_DEBUG") != null) {
            e.printStackTrace(cl.getErr());
        }
        return userError ? BAD_INPUT : FAILURE;
    }
}
