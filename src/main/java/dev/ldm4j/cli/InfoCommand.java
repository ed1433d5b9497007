package dev.ldm4j.cli;

import dev.ldm4j.model.ModelInfo;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ldm4j info}: what a checkpoint is, without loading its weights. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print a checkpoint's detected architecture, dtypes, parameter counts and key problems.")
final class InfoCommand implements Runnable {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "Checkpoint (.safetensors, .ckpt or .pt).")
    Path model;

    @Option(names = "--config", paramLabel = "FILE", description = "LDM YAML config; detected when absent.")
    Path config;

    @Override
    public void run() {
        System.out.print(ModelInfo.of(model, config).report());
    }
}
