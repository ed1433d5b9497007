package dev.ldm4j.cli;

import dev.ldm4j.io.Images;
import dev.ldm4j.io.ImageTensors;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.model.StableDiffusion;
import dev.ldm4j.nn.Torch;
import dev.ldm4j.pipeline.GenerationRequest;
import dev.ldm4j.pipeline.GenerationResult;
import dev.ldm4j.pipeline.Parameters;
import dev.ldm4j.pipeline.TextToImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ldm4j generate}: text to image, flags spelled as in stable-diffusion.cpp. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Generate images from a text prompt.")
final class GenerateCommand implements Runnable {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE",
            description = "Stable Diffusion checkpoint (.safetensors, single-file layout).")
    Path model;

    @Option(names = "--config", paramLabel = "FILE",
            description = "LDM YAML config; detected from the checkpoint when absent.")
    Path config;

    @Option(names = "--vae", paramLabel = "FILE", description = "A separate VAE to use instead of the checkpoint's.")
    Path vae;

    @Option(names = "--taesd", paramLabel = "FILE", description = "Decode with this TAESD decoder (fast, approximate).")
    Path taesd;

    @Option(names = {"-p", "--prompt"}, required = true, description = "The prompt.")
    String prompt;

    @Option(names = {"-n", "--negative-prompt"}, defaultValue = "", description = "The negative prompt.")
    String negativePrompt;

    @Option(names = "--steps", defaultValue = "20", description = "Sampling steps (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--cfg-scale", defaultValue = "7.0",
            description = "Classifier-free guidance scale (default ${DEFAULT-VALUE}).")
    double cfgScale;

    @Option(names = "--sampling-method", defaultValue = "euler_a",
            description = "ddim, plms, ddpm, euler, euler_a, heun, dpm++2m (default ${DEFAULT-VALUE}).")
    String sampler;

    @Option(names = "--scheduler", defaultValue = "discrete",
            description = "discrete, karras (default ${DEFAULT-VALUE}).")
    String scheduler;

    @Option(names = "--eta", defaultValue = "0", description = "DDIM eta (default ${DEFAULT-VALUE}).")
    double eta;

    @Option(names = {"-s", "--seed"}, defaultValue = "42", description = "Seed; -1 = random (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = {"-W", "--width"}, defaultValue = "512", description = "Image width (default ${DEFAULT-VALUE}).")
    int width;

    @Option(names = {"-H", "--height"}, defaultValue = "512", description = "Image height (default ${DEFAULT-VALUE}).")
    int height;

    @Option(names = {"-b", "--batch-count"}, defaultValue = "1",
            description = "Images per run, from one x_T [b, 4, H/8, W/8] (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = {"-o", "--output"}, defaultValue = "output.png",
            description = "Output PNG; a batch writes NAME_1.png, NAME_2.png, ... (default ${DEFAULT-VALUE}).")
    Path output;

    @Option(names = {"-t", "--threads"}, defaultValue = "-1", description = "CPU threads; -1 = all cores.")
    int threads;

    @Option(names = "--clip-skip", defaultValue = "0",
            description = "CLIP skip as in AUTOMATIC1111 (1 = last layer); 0 = the model's default.")
    int clipSkip;

    @Override
    public void run() {
        List<Path> outputs = outputPaths(output, batch);
        for (Path p : outputs) {
            Path dir = p.toAbsolutePath().getParent();
            if (dir == null || !Files.isDirectory(dir)) {
                throw new BadInputException("cannot write " + p + ": directory " + dir + " does not exist");
            }
        }
        if (seed == -1) {
            seed = new SecureRandom().nextInt() & 0x7fffffffL;
        }
        GenerationRequest request = new GenerationRequest(prompt, negativePrompt, width, height, steps, cfgScale,
                sampler, scheduler, eta, seed, batch, clipSkip);
        if (width % 8 != 0 || height % 8 != 0) {
            throw new BadInputException("width and height must be multiples of 8, got " + width + "x" + height);
        }
        // names are checked before the model is loaded, which can take a while
        dev.ldm4j.sampling.Samplers.byName(sampler);
        dev.ldm4j.sampling.Scheduler.byName(scheduler);
        Torch.load();
        if (threads > 0) {
            torch.set_num_threads(threads);
        }
        StableDiffusion sd = StableDiffusion.load(new StableDiffusion.Options(model, config, vae, taesd));
        TextToImage pipeline = new TextToImage(sd);
        pipeline.validate(request);
        System.err.println("seed " + seed);
        GenerationResult result;
        try (Progress progress = new Progress(System.err, steps, System.console() != null)) {
            result = pipeline.generate(request, progress);
        }
        try (result) {
            List<RgbImage> images = ImageTensors.toRgb8(result.images());
            String params = Parameters.a1111(request, sd.name());
            for (int i = 0; i < images.size(); i++) {
                Images.writePng(outputs.get(i), images.get(i), Map.of(Images.PARAMETERS, params));
                System.err.println("wrote " + outputs.get(i));
            }
        }
    }

    /** {@code out.png} for one image; {@code out_1.png, out_2.png, ...} for a batch. */
    static List<Path> outputPaths(Path output, int count) {
        List<Path> paths = new ArrayList<>();
        if (count <= 1) {
            paths.add(output);
            return paths;
        }
        String file = output.getFileName().toString();
        int dot = file.lastIndexOf('.');
        String stem = dot > 0 ? file.substring(0, dot) : file;
        String ext = dot > 0 ? file.substring(dot) : ".png";
        for (int i = 1; i <= count; i++) {
            paths.add(output.resolveSibling(stem + "_" + i + ext));
        }
        return paths;
    }
}
