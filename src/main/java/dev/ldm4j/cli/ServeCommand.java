package dev.ldm4j.cli;

import dev.ldm4j.model.DefaultModel;
import dev.ldm4j.nn.Torch;
import dev.ldm4j.server.ApiServer;
import dev.ldm4j.server.RequestLimits;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ldm4j serve}: AUTOMATIC1111's HTTP API, one model at a time, until the process is stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Serve AUTOMATIC1111's HTTP API (/sdapi/v1/txt2img, img2img, progress, ...), one model at a time,"
                + " and a web page for it at /.")
final class ServeCommand implements Runnable {
    @Option(names = {"-m", "--model"}, paramLabel = "FILE",
            description = "Stable Diffusion checkpoint; default: ldm4j's own emoji model (" + DefaultModel.MODEL + ").")
    Path model;

    @Option(names = "--config", paramLabel = "FILE",
            description = "LDM YAML config; default: NAME.yaml beside the checkpoint, else detected from it.")
    Path config;

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "Address to listen on (default ${DEFAULT-VALUE}: this machine only; 0.0.0.0: all).")
    String host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "7860", description = "Port (default ${DEFAULT-VALUE}, as AUTOMATIC1111).")
    int port;

    @Mixin
    Threads threads;

    @Option(names = "--models-dir", paramLabel = "DIR",
            description = "Checkpoints a client may switch to (sd-models, options sd_model_checkpoint); without -m the "
                    + "first of them is served first.")
    Path modelsDir;

    @Option(names = "--lora-model-dir", paramLabel = "DIR",
            description = "Where a prompt's <lora:NAME:M> finds NAME.safetensors (.ckpt, .pt); none when not given.")
    Path loraModelDir;

    @Option(names = "--embd-dir", paramLabel = "DIR",
            description = "Textual-inversion embeddings a prompt can name (.pt, .bin, .safetensors); none when not given.")
    Path embdDir;

    @Option(names = "--preview-taesd", paramLabel = "FILE",
            description = "A TAESD decoder for progress previews (current_image, the job event stream); without it "
                    + "previews are AUTOMATIC1111's cheap approximation at latent size.")
    Path previewTaesd;

    @Option(names = "--max-size", paramLabel = "PIXELS", defaultValue = "2048",
            description = "The largest image side a request may ask for, hires fix included (default ${DEFAULT-VALUE}).")
    int maxSize;

    @Option(names = "--max-steps", paramLabel = "N", defaultValue = "150",
            description = "The most sampling steps a request may ask for (default ${DEFAULT-VALUE}).")
    int maxSteps;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "8",
            description = "The most images (batch_size x n_iter) of one request (default ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--api-auth", paramLabel = "USER:PASS[,USER:PASS]",
            description = "HTTP basic credentials every /sdapi route requires (401 without), as AUTOMATIC1111's.")
    String apiAuth;

    @Option(names = "--max-body-mb", paramLabel = "MB", defaultValue = "64",
            description = "Larger request bodies answer 413 (default ${DEFAULT-VALUE}).")
    int maxBodyMb;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "16",
            description = "Requests that may wait behind the running one; more get 503 (default ${DEFAULT-VALUE}).")
    int maxQueue;

    private RequestLimits limits() {
        try {
            return new RequestLimits(maxSize, maxSteps, maxBatch);
        } catch (dev.ldm4j.io.BadRequestException e) {
            throw new BadInputException("--max-size, --max-steps, --max-batch: " + e.getMessage());
        }
    }

    @Override
    public void run() {
        if (port < 0 || port > 65535) {
            throw new BadInputException("--port must be in 0..65535, got " + port);
        }
        if (maxQueue < 0 || maxQueue > 10_000) {
            throw new BadInputException("--max-queue must be in 0..10000, got " + maxQueue);
        }
        if (maxBodyMb < 1 || maxBodyMb > 4096) {
            throw new BadInputException("--max-body-mb must be in 1..4096, got " + maxBodyMb);
        }
        // with --models-dir alone the server serves the folder's first checkpoint
        Path file = model != null ? model : modelsDir != null ? null : DefaultModel.resolve();
        Torch.load();
        threads.apply();
        CountDownLatch stopped = new CountDownLatch(1);
        ApiServer.Settings settings = new ApiServer.Settings(host, port, maxQueue, file, config, modelsDir,
                loraModelDir, apiAuth, maxBodyMb, embdDir, previewTaesd, limits());
        // the server owns its models: a switch frees the old one
        ApiServer server = ApiServer.load(settings);
        // Ctrl-C: stop taking requests and let the running step end before the model is freed
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "ldm4j-serve-stop"));
        System.err.println("serving on http://" + host + ":" + server.port()
                + "/ (a web page there; AUTOMATIC1111 API: /sdapi/v1/txt2img, /sdapi/v1/img2img, ...); Ctrl-C stops");
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
