package dev.ldm4j.cli;

import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code ldm4j} command. */
@Command(name = "ldm4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Latent diffusion (Stable Diffusion) in Java.",
        subcommands = {GenerateCommand.class, BatchCommand.class, ServeCommand.class, LoadTestCommand.class,
            InfoCommand.class, ConvertCommand.class, BenchCommand.class,
            TrainCommand.class,
            TrainVaeCommand.class,
            TrainClassifierCommand.class, EvalCommand.class,
            CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-v", "--verbose"}, description = "Print the stack trace of an internal error (a bug).")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code: 0 ok, 1 internal error (a bug), 2 bad usage or input. */
    public static int run(String... args) {
        return run(new java.io.PrintWriter(System.err, true), args);
    }

    /** As {@link #run(String...)} with errors and usage messages going to {@code err}. */
    public static int run(java.io.PrintWriter err, String... args) {
        return run(new java.io.PrintWriter(System.out, true), err, args);
    }

    /** As {@link #run(String...)} with results going to {@code out}, errors and progress to {@code err}. */
    public static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        return execute(new Main(), out, err, args);
    }

    /** Runs {@code command} (the {@code ldm4j} command, or a test's) with the CLI's error handling. */
    static int execute(Object command, java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(command);
        cl.setOut(out);
        cl.setErr(err);
        // a prompt is text: "-p @notes.txt" must not become the file's content, nor inject options from it
        cl.setExpandAtFiles(false);
        cl.setExecutionExceptionHandler(new Errors());
        // a mistyped flag or value: one line and where to look, not the whole usage text
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("ldm4j: error: " + ex.getMessage() + " (see '"
                    + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            return Errors.BAD_INPUT;
        });
        try {
            return cl.execute(args);
        } catch (Throwable t) {
            // an Error (out of memory, stack overflow) passes picocli's handler, which takes Exceptions only
            return Errors.report(t, err, List.of(args).contains("-v") || List.of(args).contains("--verbose"));
        }
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"ldm4j " + (v == null ? "(development build)" : v)};
        }
    }
}
