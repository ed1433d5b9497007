package dev.ldm4j.cli;

import dev.ldm4j.io.AtomicFiles;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code ldm4j convert IN OUT.safetensors}: a PyTorch checkpoint (or a safetensors file) rewritten as
 * safetensors, every tensor unchanged. The checkpoint's pickle is interpreted, never run, so converting an
 * untrusted {@code .ckpt} is safe; the output appears whole or not at all.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Rewrite a PyTorch checkpoint (.ckpt/.pt, ZIP or legacy) as .safetensors: the same tensor "
                + "names, dtypes, shapes and bytes. Its pickle is read, never run.")
final class ConvertCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IN", description = "The checkpoint to read (.ckpt, .pt, .safetensors).")
    Path input;

    @Parameters(index = "1", paramLabel = "OUT", description = "The .safetensors file to write.")
    Path output;

    @Override
    public void run() {
        if (sameFile(input, output)) {
            throw new BadInputException("OUT " + output + " is the input file; give another name");
        }
        AtomicFiles.checkWritable(output);
        try (SafetensorsFile in = SafetensorsFile.open(input)) {
            SafetensorsWriter.write(output, in);
            spec.commandLine().getErr().println("convert: wrote " + in.keys().size() + " tensors to " + output);
        }
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.exists(b) && Files.isSameFile(a, b);
        } catch (IOException e) {
            return false; // the open or the write reports what is wrong with either
        }
    }
}
