package dev.ldm4j.cli;

import dev.ldm4j.model.Architecture;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.nn.ComputeDevice;
import dev.ldm4j.nn.Precision;
import dev.ldm4j.nn.RandomSource;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Torch;
import dev.ldm4j.nn.Weights;
import dev.ldm4j.text.ClipTextConfig;
import dev.ldm4j.text.ClipTextModel;
import dev.ldm4j.text.TextEncoder;
import dev.ldm4j.unet.Conditioning;
import dev.ldm4j.unet.UNetConfig;
import dev.ldm4j.unet.UNetModel;
import dev.ldm4j.vae.AutoencoderKL;
import dev.ldm4j.vae.TiledDecode;
import dev.ldm4j.vae.VaeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Times each component of the SD 1.5 architecture with random weights (no model file needed): text encoder,
 * one UNet step at batch 1 and 2 (2 = one classifier-free-guidance step), VAE decode and encode.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time the components of SD 1.5 (or --arch sd2, sdxl) with random weights and print per-stage "
                + "figures.")
final class BenchCommand implements Runnable {
    @Option(names = "--sizes", split = ",", defaultValue = "512,256",
            description = "Image sizes (square) to time; default: ${DEFAULT-VALUE}.")
    int[] sizes;

    @Option(names = "--repeat", defaultValue = "3", description = "Timed runs per stage after one warm-up (default 3).")
    int repeat;

    @Mixin
    Threads threads;

    @Option(names = "--arch", defaultValue = "sd1",
            description = "The architecture to build: sd1 (SD 1.5), sd2 (SD 2.x), sdxl (SDXL base); default ${DEFAULT-VALUE}.")
    String arch;

    @Option(names = "--json", description = "Print the figures as one JSON object instead of a table.")
    boolean json;

    @Option(names = "--precision", defaultValue = "fp32",
            description = "Weights and compute of the UNet and text encoder: fp32, bf16, fp16 (default ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--vae-precision", defaultValue = "fp32", description = "Of the VAE (default ${DEFAULT-VALUE}).")
    String vaePrecision;

    @Option(names = "--stages", split = ",", defaultValue = "text,unet,decode,encode",
            description = "Stages to time: text, unet, decode, encode (default: all).")
    List<String> stages;

    @Option(names = "--vae-tiling", negatable = true,
            description = "Decode in tiles, as generate does; default: as generate, only above 1024x1024 pixels.")
    Boolean vaeTiling;

    @Option(names = "--device", defaultValue = "auto",
            description = "auto (default: cuda when this build has it and a GPU is visible), cpu, cuda.")
    String device;

    @Option(names = "--write-checkpoint", paramLabel = "FILE",
            description = "Instead of timing: write an SD 1.5 checkpoint with random weights in the real single-file "
                    + "layout (fp16, 2.1 GB), to time the whole generate command without a downloaded model.")
    Path writeCheckpoint;

    @Option(names = "--config", paramLabel = "FILE",
            description = "With --write-checkpoint: the LDM YAML config whose layout and sizes to write (e.g. an x4 "
                    + "upscaler's) instead of SD 1.5's.")
    Path config;

    private static final List<String> STAGES = List.of("text", "unet", "decode", "encode");

    static ScalarType dtype(String name) {
        return Precision.parse(name).scalarType();
    }

    @Override
    public void run() {
        if (repeat < 1) {
            throw new BadInputException("--repeat must be at least 1");
        }
        Torch.load();
        threads.apply();
        if (config != null && writeCheckpoint == null) {
            throw new BadInputException("--config applies to --write-checkpoint only");
        }
        if (writeCheckpoint != null) {
            writeRandomCheckpoint(writeCheckpoint, config);
            return;
        }
        for (String stage : stages) {
            if (!STAGES.contains(stage)) {
                throw new BadInputException("--stages: unknown stage '" + stage + "' (" + String.join(", ", STAGES) + ")");
            }
        }
        ComputeDevice dev = BadInputException.device(device);
        List<Map<String, Object>> rows = new ArrayList<>();
        long t0 = System.nanoTime();
        try (InferenceMode guard = new InferenceMode()) {
            RandomSource src = new RandomSource(0, dtype(precision), dev);
            Architecture architecture = Architecture.byName(arch);
            ModelConfig config = architecture.reference();
            // only what the stages need: a VAE-only run measures the VAE's memory, not the UNet's weights too
            TextEncoder text = stages.contains("text") ? architecture.textEncoder(src, config, null) : null;
            UNetModel unet = stages.contains("unet") ? architecture.unet(src, config) : null;
            ScalarType vaeType = dtype(vaePrecision);
            AutoencoderKL vae = stages.contains("decode") || stages.contains("encode")
                    ? architecture.vae(new RandomSource(1, vaeType, dev), config) : null;
            double buildS = (System.nanoTime() - t0) / 1e9;
            System.err.printf("built %s (random weights, unet/text %s, vae %s) in %.1f s on %s, threads %d%n",
                    architecture.label(), precision, vaePrecision, buildS, dev.cliName(), torch.get_num_threads());
            int contextDim = config.unet().contextDim();
            int adm = config.unet().admInChannels();
            // every stage hands its result back to the CPU, as the pipeline does: on a GPU that is also what
            // waits for the queued kernels, so the times are real
            Tensor ids = dev.to(torch.zeros(new long[] {1, 77}, new org.bytedeco.pytorch.TensorOptions(ScalarType.Long)),
                    ScalarType.Long);
            if (stages.contains("text")) {
                rows.add(time("text_encoder", 0, () -> ComputeDevice.toCpuFloat(text.encode(ids))));
            }
            for (int size : sizes) {
                if (size % 8 != 0 || size < 8) {
                    throw new BadInputException("--sizes: " + size + " is not a positive multiple of 8");
                }
                int h = size / 8;
                for (int b : stages.contains("unet") ? new int[] {1, 2} : new int[0]) {
                    Tensor x = torch.randn(b, 4, h, h);
                    Tensor t = torch.full(new long[] {b}, new org.bytedeco.pytorch.Scalar(500.0),
                            new org.bytedeco.pytorch.TensorOptions(ScalarType.Float));
                    Conditioning c = Conditioning.crossAttn(torch.randn(b, 77, contextDim));
                    Conditioning cond = adm > 0 ? c.withVector(torch.randn(b, adm)) : c;
                    rows.add(time("unet_step_batch" + b, size, () -> unet.forward(x, t, cond)));
                }
                if (stages.contains("decode")) {
                    Tensor z = torch.randn(1, 4, h, h);
                    boolean tiled = TiledDecode.wanted(vaeTiling, (long) size * size);
                    rows.add(time(tiled ? "vae_decode_tiled" : "vae_decode", size,
                            () -> LatentDiffusionModel.decodeOnDevice(vae, z, dev, vaeType, tiled)));
                }
                if (stages.contains("encode")) {
                    Tensor img = dev.to(torch.rand(1, 3, size, size).mul(new org.bytedeco.pytorch.Scalar(2)).sub(
                            new org.bytedeco.pytorch.Scalar(1)), vaeType);
                    rows.add(time("vae_encode", size, () -> ComputeDevice.toCpuFloat(vae.encode(img).mean())));
                }
            }
        }
        long peak = peakRssBytes();
        if (json) {
            StringBuilder sb = new StringBuilder("{\"arch\": \"" + arch + "\", \"device\": \"" + dev.cliName() + "\", \"precision\": \"" + precision + "\", \"vae_precision\": \""
                    + vaePrecision + "\", \"threads\": " + torch.get_num_threads() + ", \"peak_rss_mb\": "
                    + peak / (1 << 20) + ", \"stages\": [");
            for (int i = 0; i < rows.size(); i++) {
                Map<String, Object> r = rows.get(i);
                sb.append(i == 0 ? "" : ", ").append(String.format(java.util.Locale.ROOT,
                        "{\"stage\": \"%s\", \"size\": %s, \"min_s\": %.3f, \"median_s\": %.3f, \"gflop_per_s\": %s, "
                        + "\"peak_rss_mb\": %s, \"first_run_s\": %.3f}",
                        r.get("stage"), r.get("size"), r.get("min"), r.get("median"),
                        "-".equals(r.get("gflops")) ? "null" : r.get("gflops"), r.get("rss"), r.get("first")));
            }
            System.out.println(sb.append("]}"));
        } else {
            System.out.printf("%-16s %6s %9s %9s %8s %12s %9s%n", "stage", "size", "min s", "median s", "GFLOP/s",
                    "peak RSS MB", "first s");
            for (Map<String, Object> r : rows) {
                System.out.printf(java.util.Locale.ROOT, "%-16s %6s %9.3f %9.3f %8s %12s %9.3f%n", r.get("stage"),
                        (int) r.get("size") == 0 ? "-" : r.get("size"), r.get("min"), r.get("median"), r.get("gflops"),
                        r.get("rss"), r.get("first"));
            }
            System.out.printf("peak RSS of the whole run: %d MB%n", peak / (1 << 20));
        }
    }

    /**
     * Nominal work of a stage in GFLOP, for a GFLOP/s column: SD 1.5 counts at 512x512 (UNet forward 800
     * GFLOP per image, VAE decoder 2500 GFLOP; text encoder 2 x 123M parameters x 77 tokens), scaled by
     * pixel count (convolutions dominate; the attention's quadratic share is small). 0 = not known.
     */
    static double gflop(String stage, int size) {
        double px = (size / 512.0) * (size / 512.0);
        return switch (stage) {
            case "text_encoder" -> 2 * 123e6 * 77 / 1e9;
            case "unet_step_batch1" -> 800 * px;
            case "unet_step_batch2" -> 1600 * px;
            case "vae_decode", "vae_decode_tiled" -> 2500 * px; // tiles: their overlap not counted
            default -> 0;
        };
    }

    private Map<String, Object> time(String stage, int size, Supplier<Tensor> f) {
        resetPeakRss();
        double[] s = new double[repeat];
        double first = 0;
        for (int i = -1; i < repeat; i++) {
            try (PointerScope scope = new PointerScope()) {
                long t = System.nanoTime();
                f.get();
                double took = (System.nanoTime() - t) / 1e9;
                if (i >= 0) {
                    s[i] = took;
                } else {
                    first = took;
                }
            }
        }
        Arrays.sort(s);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("stage", stage);
        r.put("size", size);
        r.put("min", s[0]);
        r.put("median", s[s.length / 2]);
        double work = arch.equals("sd1") ? gflop(stage, size) : 0; // the nominal counts are SD 1.5's
        r.put("gflops", work > 0 ? String.format(java.util.Locale.ROOT, "%.0f", work / s[0]) : "-");
        r.put("rss", peakRssBytes() / (1 << 20));
        // the untimed first run: its new kernel signatures were checked against float64 (nn.Kernels)
        r.put("first", first);
        System.err.printf(java.util.Locale.ROOT, "%s %s: min %.3f s, median %.3f s (first run, kernels checked: %.3f s)%n",
                stage, size == 0 ? "" : size + "x" + size, s[0], s[s.length / 2], first);
        return r;
    }

    /**
     * All three components of SD 1.5 drawn in fp16, in the order of the released file's prefixes, and written
     * in one go (through a temporary file, as every output).
     */
    private static void writeRandomCheckpoint(Path path, Path yaml) {
        try (InferenceMode guard = new InferenceMode(); PointerScope scope = new PointerScope()) {
            RandomSource src = new RandomSource(0, ScalarType.Half);
            ModelConfig config = yaml == null ? Architecture.SD1.reference() : ModelConfig.fromYaml(yaml);
            Architecture arch = config.architecture();
            arch.vae(src, config);
            arch.unet(src, config);
            arch.textEncoder(src, config, null);
            Tensors.write(path, src.taken());
            System.out.printf("wrote %s: %d tensors, %d MB (%s layout, random fp16 weights)%n", path,
                    src.taken().size(), path.toFile().length() >> 20, yaml == null ? "SD 1.5" : config.describe());
        }
    }

    /**
     * Starts the peak-RSS count afresh from the current resident set (Linux: writing 5 to clear_refs), so each
     * stage reports its own peak: the weights plus that stage's activations. Elsewhere the peak stays cumulative.
     */
    static void resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | RuntimeException e) {
            // not Linux, or not allowed: the figure stays the peak so far
        }
    }

    /** VmHWM of this process: the peak resident set, native memory included. */
    static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
