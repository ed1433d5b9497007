package dev.ldm4j.cli;

import dev.ldm4j.io.AtomicFiles;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.io.SafetensorsWriter;
import dev.ldm4j.model.DiffusersFolder;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.model.ModelLoader;
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
        description = "Rewrite a PyTorch checkpoint (.ckpt/.pt, ZIP or legacy) or a diffusers folder as .safetensors "
                + "(the same dtypes and bytes; a folder's tensors under the single-file names), or a single-file "
                + "SD 1.x checkpoint as a diffusers folder (OUT not ending in .safetensors). A pickle is read, never run.")
final class ConvertCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IN", description = "The checkpoint to read (.ckpt, .pt, .safetensors).")
    Path input;

    @Parameters(index = "1", paramLabel = "OUT",
            description = "The .safetensors file to write, or the diffusers folder to make (a new or empty folder).")
    Path output;

    @CommandLine.Option(names = "--config", paramLabel = "FILE",
            description = "The model's LDM YAML, for writing a diffusers folder (default: beside IN, else detected).")
    Path config;

    @Override
    public void run() {
        if (sameFile(input, output)) {
            throw new BadInputException("OUT " + output + " is the input file; give another name");
        }
        if (!output.getFileName().toString().endsWith(".safetensors")) {
            toFolder();
            return;
        }
        AtomicFiles.checkWritable(output);
        if (DiffusersFolder.is(input)) {
            try (DiffusersFolder.Opened in = DiffusersFolder.open(input)) {
                SafetensorsWriter.write(output, in.file());
                spec.commandLine().getErr().println("convert: wrote " + in.file().keys().size() + " tensors to " + output);
            }
            return;
        }
        try (SafetensorsFile in = SafetensorsFile.open(input)) {
            SafetensorsWriter.write(output, in);
            spec.commandLine().getErr().println("convert: wrote " + in.keys().size() + " tensors to " + output);
        }
    }

    private void toFolder() {
        try {
            if (Files.exists(output) && !(Files.isDirectory(output) && isEmpty(output))) {
                throw new BadInputException("OUT " + output + " exists and is not an empty folder (a diffusers folder "
                        + "is made new; a .safetensors name writes a single file)");
            }
        } catch (IOException e) {
            throw new BadInputException("OUT " + output + ": " + e.getMessage());
        }
        ModelConfig c = ModelLoader.config(input, config);
        try (SafetensorsFile in = SafetensorsFile.open(input)) {
            DiffusersFolder.write(in, c, output);
        }
        spec.commandLine().getErr().println("convert: wrote a diffusers folder to " + output);
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
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
