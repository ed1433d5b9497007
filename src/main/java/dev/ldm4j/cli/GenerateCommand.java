package dev.ldm4j.cli;

import dev.ldm4j.io.AtomicFiles;
import dev.ldm4j.io.GrayImage;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.io.WeightFiles;
import dev.ldm4j.model.Architecture;
import dev.ldm4j.model.Conditioner;
import dev.ldm4j.model.DefaultModel;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.LoraFile;
import dev.ldm4j.model.LoraPatch;
import dev.ldm4j.model.LoraTags;
import dev.ldm4j.model.MemoryPlan;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.ComputeDevice;
import dev.ldm4j.nn.CpuFeatures;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.nn.Kernels;
import dev.ldm4j.nn.Precision;
import dev.ldm4j.nn.Torch;
import dev.ldm4j.pipeline.GenerationRequest;
import dev.ldm4j.pipeline.GenerationResult;
import dev.ldm4j.pipeline.Generator;
import dev.ldm4j.pipeline.InitImage;
import dev.ldm4j.pipeline.MaskOptions;
import dev.ldm4j.pipeline.Outpaint;
import dev.ldm4j.pipeline.Parameters;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ldm4j generate}: text to image, image to image and inpainting, flags spelled as in stable-diffusion.cpp. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Generate images from a text prompt, optionally starting from an image (-i) or repainting "
                + "the white area of a mask (--mask).")
final class GenerateCommand implements Runnable {
    @Option(names = {"-m", "--model"}, paramLabel = "FILE",
            description = "Stable Diffusion checkpoint (.safetensors, or a PyTorch .ckpt/.pt, whose pickle is read, "
                    + "never run; single-file layout); default: ldm4j's own "
                    + "emoji model (" + DefaultModel.MODEL + ", 64x64).")
    Path model;

    @Option(names = "--config", paramLabel = "FILE",
            description = "LDM YAML config; default: NAME.yaml beside the checkpoint, else detected from it.")
    Path config;

    @Option(names = "--vae", paramLabel = "FILE", description = "A separate VAE to use instead of the checkpoint's.")
    Path vae;

    @Option(names = "--lora-model-dir", paramLabel = "DIR",
            description = "Where <lora:NAME:M> in the prompt finds NAME.safetensors (.ckpt, .pt) (default: the current "
                    + "directory).")
    Path loraModelDir;

    @Option(names = "--embd-dir", paramLabel = "DIR",
            description = "Textual-inversion embeddings (.pt, .bin, .safetensors, in subfolders too): a file's name "
                    + "without its extension, written in the prompt, stands for its vectors.")
    Path embdDir;

    @Option(names = "--refiner", paramLabel = "FILE",
            description = "An SDXL refiner checkpoint that finishes the denoising (see --refiner-switch).")
    Path refiner;

    @Option(names = "--refiner-switch", defaultValue = "0.8", paramLabel = "FRACTION",
            description = "The part of the denoising the base model does before the refiner takes over "
                    + "(by timestep, as diffusers' denoising_end; default ${DEFAULT-VALUE}).")
    double refinerSwitch;

    @Option(names = "--taesd", paramLabel = "FILE", description = "Decode with this TAESD decoder (fast, approximate).")
    Path taesd;

    @Option(names = {"-p", "--prompt"}, required = true,
            description = "The prompt, at most " + GenerationRequest.MAX_PROMPT_CHARS + " characters (AUTOMATIC1111's "
                    + "syntax: (word:1.2), [word], BREAK).")
    String prompt;

    @Option(names = {"-n", "--negative-prompt"}, defaultValue = "",
            description = "The negative prompt, at most " + GenerationRequest.MAX_PROMPT_CHARS + " characters.")
    String negativePrompt;

    @Option(names = "--steps", defaultValue = "20",
            description = "Sampling steps, 1.." + GenerationRequest.MAX_STEPS + " (ddim, plms, ddpm: at most the "
                    + "model's 1000 timesteps; default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--cfg-scale", defaultValue = "7.0",
            description = "Classifier-free guidance scale (default ${DEFAULT-VALUE}).")
    double cfgScale;

    @Option(names = "--sampling-method", defaultValue = "euler_a", completionCandidates = SamplerNames.class,
            description = "${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
    String sampler;

    @Option(names = "--scheduler", defaultValue = "automatic", completionCandidates = SchedulerNames.class,
            description = "${COMPLETION-CANDIDATES}; AUTOMATIC1111's names too (default: the sampler's own, "
                    + "discrete; lcm for lcm and tcd, simple for ddim_trailing).")
    String scheduler;

    @Option(names = "--eta", defaultValue = "0", description = "eta of ddim, ddim_trailing and tcd (default ${DEFAULT-VALUE}).")
    double eta;

    @Option(names = {"-s", "--seed"}, defaultValue = "42", description = "Seed; -1 = random (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = {"-W", "--width"}, paramLabel = "W",
            description = "Image width (default: the init image's width, else the config's ldm4j.image_size, else 512).")
    Integer width;

    @Option(names = {"-H", "--height"}, paramLabel = "H",
            description = "Image height (default: the init image's height, else the config's ldm4j.image_size, else 512).")
    Integer height;

    @Option(names = {"-i", "--init-img"}, paramLabel = "FILE",
            description = "Start from this image (image to image); its size is the output size.")
    Path initImg;

    @Option(names = "--mask", paramLabel = "FILE",
            description = "Repaint where this mask (the init image's size) is white (>= 128), keep the rest. "
                    + "Needs --init-img.")
    Path mask;

    @Option(names = "--outpaint", paramLabel = "L,T,R,B",
            description = "Grow the init image by these borders (pixels, multiples of 8) and paint them in; the "
                    + "borders start as the stretched edge, --masked-content (default fill) says what they become.")
    String outpaint;

    @Option(names = "--mask-blur", paramLabel = "N",
            description = "AUTOMATIC1111's inpainting: blur the mask by N pixels (its Gaussian) and paste the kept "
                    + "area back through it (default 4 once any inpainting option or --outpaint is given).")
    Integer maskBlur;

    @Option(names = "--invert-mask", description = "Repaint the mask's black area and keep the white one.")
    boolean invertMask;

    @Option(names = "--masked-content", paramLabel = "MODE",
            description = "What the area to repaint starts from: original (default), fill (colours spread from "
                    + "around it; default for --outpaint), latent-noise, latent-nothing (AUTOMATIC1111's).")
    String maskedContent;

    @Option(names = "--inpaint-area", paramLabel = "AREA",
            description = "whole (default) or masked: work on the region around the mask at the full size, then "
                    + "paste it back (AUTOMATIC1111's \"only masked\").")
    String inpaintArea;

    @Option(names = "--inpaint-padding", paramLabel = "N",
            description = "Pixels of context around the mask for --inpaint-area masked (default 32).")
    Integer inpaintPadding;

    @Option(names = "--hires-scale", paramLabel = "S",
            description = "Hires fix: generate at -W/-H, upscale by S (1..8) and run image-to-image at that size "
                    + "(default 2 once any --hires-* flag is given).")
    Double hiresScale;

    @Option(names = "--hires-resize", paramLabel = "WxH",
            description = "Hires fix: the target size instead of --hires-scale (0 for a side keeps the ratio; both "
                    + "given: cover, then crop, as AUTOMATIC1111's hr_resize_x/y).")
    String hiresResize;

    @Option(names = "--hires-steps", paramLabel = "N",
            description = "Hires fix: steps of the second pass (default: --steps).")
    Integer hiresSteps;

    @Option(names = "--hires-denoise", paramLabel = "D",
            description = "Hires fix: denoising strength of the second pass, (0, 1] (default 0.7).")
    Double hiresDenoise;

    @Option(names = "--hires-upscaler", paramLabel = "NAME",
            description = "Hires fix: latent (default; AUTOMATIC1111's \"Latent\", bilinear), \"latent (bicubic)\", "
                    + "\"latent (nearest)\", lanczos, bicubic, nearest, none, or x4 (--hires-upscale-model).")
    String hiresUpscaler;

    @Option(names = "--hires-upscale-model", paramLabel = "FILE",
            description = "Hires fix: the x4 upscaler checkpoint for --hires-upscaler x4.")
    Path hiresUpscaleModel;

    @Option(names = "--noise-level", paramLabel = "N",
            description = "x4 upscaler: how much the low-resolution input is noised before the UNet sees it, 0..349 "
                    + "(default " + InitImage.DEFAULT_NOISE_LEVEL + ").")
    Integer noiseLevel;

    @Option(names = "--strength", paramLabel = "S",
            description = "How much of the init image is replaced by noise, 0..1 (default "
                    + InitImage.DEFAULT_STRENGTH + "; 1 with --mask, which starts from pure noise).")
    Double strength;

    @Option(names = "--vae-encoding", paramLabel = "MODE",
            description = "How the init and masked images become latents: sample (default; a draw from the VAE "
                    + "posterior, as sd.cpp, AUTOMATIC1111 and diffusers) or mean (the posterior mean).")
    String vaeEncoding;

    @Option(names = "--img2img-noising", paramLabel = "MODE",
            description = "compvis (default; the init latent is noised one DDIM step above the first denoised one, "
                    + "as CompVis, AUTOMATIC1111 and sd.cpp) or diffusers (at the first denoised step).")
    String noising;

    @Option(names = {"-b", "--batch-count"}, defaultValue = "1",
            description = "Images per run, 1.." + GenerationRequest.MAX_BATCH + ", from one x_T [b, 4, H/8, W/8] "
                    + "(default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = {"-o", "--output"}, defaultValue = "output.png",
            description = "Output PNG; a batch writes NAME_1.png, NAME_2.png, ... (default ${DEFAULT-VALUE}).")
    Path output;

    @Option(names = "--precision", paramLabel = "P",
            description = "UNet and text encoder dtype: fp32, bf16, fp16; default: bf16 for full-size models on a "
                    + "CPU with AVX512-BF16/AMX, else fp32.")
    String precision;

    @Option(names = "--vae-precision", paramLabel = "P", defaultValue = "fp32",
            description = "VAE dtype (default ${DEFAULT-VALUE}).")
    String vaePrecision;

    @Option(names = "--vae-tiling", negatable = true,
            description = "Decode in overlapping tiles (bounded memory); default: only above 1024x1024 pixels.")
    Boolean vaeTiling;

    @Option(names = {"-v", "--verbose"},
            description = "Print the memory plan and more detail, and the stack trace of an internal error.")
    boolean verbose;

    @Option(names = "--ignore-memory-plan",
            description = "Run even when the memory plan says the run will not fit in the available memory.")
    boolean ignoreMemoryPlan;

    @Mixin
    Threads threads;

    @Option(names = "--device", paramLabel = "D", defaultValue = "auto",
            description = "auto (default: cuda when this build has it and a GPU is visible), cpu, cuda.")
    String device;

    @Option(names = "--original-size", paramLabel = "WxH",
            description = "SDXL size conditioning: the size the picture is to look cropped from (default: the "
                    + "image size, as diffusers and AUTOMATIC1111).")
    String originalSize;

    @Option(names = "--crop", paramLabel = "LEFT,TOP",
            description = "SDXL size conditioning: the crop's top-left corner (default 0,0).")
    String crop;

    @Option(names = "--target-size", paramLabel = "WxH",
            description = "SDXL size conditioning: the target size (default: the image size).")
    String targetSize;

    @Option(names = "--clip-skip", defaultValue = "0",
            description = "CLIP skip as in AUTOMATIC1111 (1 = last layer); 0 = the model's default.")
    int clipSkip;

    @Override
    public void run() {
        if (model == null) {
            model = DefaultModel.resolve();
        }
        if (batch < 1 || batch > GenerationRequest.MAX_BATCH) {
            // checked before the batch's file names are made (2^31 of them would not fit in memory)
            throw new BadInputException("batch count must be in 1.." + GenerationRequest.MAX_BATCH + ", got " + batch);
        }
        List<Path> outputs = outputPaths(output, batch);
        // before any work: a run of minutes must not end in "permission denied", nor replace /dev/null
        outputs.forEach(AtomicFiles::checkWritable);
        if (seed == -1) {
            seed = new SecureRandom().nextInt() & 0x7fffffffL;
        }
        InitImage init = initImage();
        checkHiresFlags(init);
        boolean upscaler = upscaler();
        if (noiseLevel != null && !upscaler) {
            throw new BadInputException("--noise-level applies to the x4 upscaler only");
        }
        if (upscaler && init != null && noiseLevel != null) {
            init = init.withNoiseLevel(noiseLevel);
        }
        int fallback = init != null ? 0
                : ModelConfig.recommendedImageSize(ModelConfig.configFor(model, config)).orElse(512);
        int w = width != null ? width : init != null ? init.image().width() : fallback;
        int h = height != null ? height : init != null ? init.image().height() : fallback;
        if (upscaler && init != null) {
            // -W/-H name the output, 4x the input; the request (and its latent) has the input's size
            if ((width != null && width != 4 * init.image().width()) || (height != null && height != 4 * init.image().height())) {
                throw new BadInputException("the x4 upscaler makes " + 4 * init.image().width() + "x"
                        + 4 * init.image().height() + " from the " + init.image().width() + "x" + init.image().height()
                        + " input; -W/-H must be that or left out");
            }
            w = init.image().width();
            h = init.image().height();
        }
        checkSize(init, w, h);
        LoraTags.Parsed tags = LoraTags.parse(prompt);
        LoraPatch loras = tags.loras().isEmpty() ? null : new LoraPatch(tags.loras().stream()
                .map(ref -> new LoraPatch.Applied(LoraFile.read(loraFile(ref.name()), ref.name()), ref.textMultiplier(),
                        ref.unetMultiplier())).toList());
        GenerationRequest request = new GenerationRequest(tags.prompt(), negativePrompt, w, h, steps, cfgScale,
                sampler, scheduler, eta, seed, batch, clipSkip, init, sizes(originalSize, crop, targetSize, w, h));
        Precision unetPrecision = precision == null ? null : Precision.parse(precision);
        Precision vaeP = Precision.parse(vaePrecision);
        ComputeDevice dev = BadInputException.device(device);
        ModelLoader.Options load = new ModelLoader.Options(model, config, vae, taesd, unetPrecision, vaeP, dev,
                loras == null ? null : List.of(loras), embdDir);
        if (dev == ComputeDevice.CPU) {
            // a hires fix's second pass is the larger one (the x4 upscaler's own sizes are the plan's to work out)
            dev.ldm4j.pipeline.HiresFix planned = hiresFix(null, false);
            checkMemory(load, planned == null ? request : request.withSize(
                    planned.target(w, h).width(8), planned.target(w, h).height(8)));
        } else if (verbose) {
            System.err.println("memory plan: not made for " + dev.cliName() + " (it estimates host memory for a CPU run)");
        }
        Torch.load();
        threads.apply();
        if (verbose) {
            System.err.printf("CPU: %s; %d threads (-t), oneDNN %s%n", CpuFeatures.describe(),
                    torch.get_num_threads(), Kernels.oneDnnEnabled() ? "on, each kernel checked "
                            + "against float64 at first use" : "off");
        }
        if (refiner != null && !(refinerSwitch > 0 && refinerSwitch <= 1)) {
            throw new BadInputException("--refiner-switch must be in (0, 1], got " + refinerSwitch);
        }
        try (LatentDiffusionModel sd = ModelLoader.load(load);
             LatentDiffusionModel second = refiner == null ? null : ModelLoader.load(new ModelLoader.Options(refiner,
                     null, null, null, unetPrecision, vaeP, dev, null, embdDir));
             LatentDiffusionModel x4 = hiresUpscaleModel == null ? null : ModelLoader.load(new ModelLoader.Options(
                     hiresUpscaleModel, null, null, null, unetPrecision, vaeP, dev, null))) {
            hires = hiresFix(x4);
            if (second != null && (sd.config().architecture() != Architecture.SDXL
                    || second.config().architecture() != Architecture.SDXL)) {
                throw new BadInputException("--refiner pairs two SDXL models; got " + sd.config().describe()
                        + " and " + second.config().describe());
            }
            if (verbose) {
                sd.embeddings().loaded().forEach(e -> System.err.println("embedding " + e.name() + ": " + e.vectors()
                        + " vectors from " + e.file()));
                sd.embeddings().skipped().forEach((name, why) -> System.err.println("embedding " + name
                        + " skipped: " + why));
            }
            if (loras != null) {
                loras.check();
                List<String> unmatched = loras.unmatched();
                if (verbose) {
                    unmatched.forEach(u -> System.err.println("LoRA module matched no weight: " + u));
                } else if (!unmatched.isEmpty()) {
                    System.err.println(unmatched.size() + " LoRA modules matched no weight of the model (-v lists them)");
                }
            }
            generate(sd, second, request, outputs);
        }
    }

    /** NAME.safetensors, .ckpt or .pt in --lora-model-dir. */
    private Path loraFile(String name) {
        Path dir = loraModelDir != null ? loraModelDir : Path.of(".");
        if (name.contains("/") || name.contains("\\") || name.equals("..")) {
            throw new BadInputException("LoRA name '" + name + "' is a path; put the file in --lora-model-dir");
        }
        Path p = WeightFiles.byName(dir, name);
        if (p != null) {
            return p;
        }
        throw new BadInputException("no LoRA '" + name + "' in " + dir.toAbsolutePath().normalize()
                + " (looked for " + name + ".safetensors, .ckpt, .pt; --lora-model-dir sets the folder)");
    }

    /** The hires fix of this run: null without --hires-* flags. */
    private dev.ldm4j.pipeline.HiresFix hires;

    private void generate(LatentDiffusionModel sd, LatentDiffusionModel second, GenerationRequest request,
                          List<Path> outputs) {
        Generator generator = new Generator(sd, new Generator.Options(vaeTiling,
                second == null ? null : new Generator.Refiner(second, refinerSwitch), hires));
        int total = generator.plannedSteps(request);
        System.err.println("seed " + seed);
        GenerationResult result;
        try (Progress progress = new Progress(System.err, total, System.console() != null, verbose)) {
            result = generator.generate(request, progress);
        }
        if (verbose && Kernels.oneDnnFailure() == null) {
            System.err.println("kernels: " + Kernels.verifiedCount() + " signatures checked against float64, all right");
        }
        try (result) {
            List<RgbImage> images = ImageTensors.toRgb8(result.images());
            String params = Parameters.a1111(request, sd.name(), hires);
            for (int i = 0; i < images.size(); i++) {
                Images.writePng(outputs.get(i), images.get(i), Map.of(Images.PARAMETERS, params));
                System.err.println("wrote " + outputs.get(i));
            }
        }
    }

    /** SDXL's size conditioning from the flags; null when none is given (the default). */
    static Conditioner.Sizes sizes(String originalSize, String crop, String targetSize, int w, int h) {
        if (originalSize == null && crop == null && targetSize == null) {
            return null;
        }
        int[] original = originalSize == null ? new int[] {w, h} : pair("--original-size", originalSize, "x");
        int[] corner = crop == null ? new int[] {0, 0} : pair("--crop", crop, ",");
        int[] target = targetSize == null ? new int[] {w, h} : pair("--target-size", targetSize, "x");
        return new Conditioner.Sizes(original[1], original[0], corner[1], corner[0], target[1], target[0]);
    }

    /** Two non-negative numbers separated by {@code sep} (64x96, 0,16). */
    private static int[] pair(String flag, String value, String sep) {
        String[] parts = value.trim().split(java.util.regex.Pattern.quote(sep), -1);
        try {
            if (parts.length == 2) {
                int a = Integer.parseInt(parts[0].trim());
                int b = Integer.parseInt(parts[1].trim());
                if (a >= 0 && b >= 0 && a <= 1 << 16 && b <= 1 << 16) {
                    return new int[] {a, b};
                }
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new BadInputException(flag + ": expected two numbers 0.." + (1 << 16) + " as A" + sep + "B, got '"
                + value + "'");
    }

    /** The output size must be the init image's (no resizing) and a multiple of the VAE's factor 8. */
    private void checkSize(InitImage init, int w, int h) {
        if (init == null) {
            if (w % 8 != 0 || h % 8 != 0) {
                throw new BadInputException("width and height must be multiples of 8, got " + w + "x" + h);
            }
            return;
        }
        String size = init.image().width() + "x" + init.image().height();
        if (init.image().width() != w || init.image().height() != h) {
            throw new BadInputException("the init image " + initImg + (outpaint != null ? " grown by --outpaint" : "")
                    + " is " + size + " but -W/-H ask for " + w + "x" + h + "; resize the image or leave out -W/-H");
        }
        if (w % 8 != 0 || h % 8 != 0) {
            throw new BadInputException("the init image " + initImg + " is " + size
                    + "; its width and height must be multiples of 8 (resize or crop it)");
        }
    }

    /** Whether -m is an x4 upscaler (its config read the way loading reads it; a broken file is left to loading). */
    private boolean upscaler() {
        try {
            return ModelLoader.config(model, config).upscaler();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The init image, mask and their settings from the flags; null for text to image. */
    private InitImage initImage() {
        if (initImg == null) {
            requireInitImage("--mask", mask);
            requireInitImage("--strength", strength);
            requireInitImage("--vae-encoding", vaeEncoding);
            requireInitImage("--img2img-noising", noising);
            requireInitImage("--noise-level", noiseLevel);
            requireInitImage("--outpaint", outpaint);
            requireInitImage("--mask-blur", maskBlur);
            requireInitImage("--invert-mask", invertMask ? true : null);
            requireInitImage("--masked-content", maskedContent);
            requireInitImage("--inpaint-area", inpaintArea);
            requireInitImage("--inpaint-padding", inpaintPadding);
            return null;
        }
        double s = strength != null ? strength : mask != null || outpaint != null ? 1.0 : InitImage.DEFAULT_STRENGTH;
        if (!(s >= 0 && s <= 1)) {
            throw new BadInputException("--strength must be in [0, 1], got " + strength);
        }
        InitImage.Encoding encoding = choice("--vae-encoding", vaeEncoding, InitImage.Encoding.SAMPLE);
        InitImage.Noising noisingMode = choice("--img2img-noising", noising, InitImage.Noising.COMPVIS);
        RgbImage image = Images.readRgb(initImg);
        GrayImage maskImage = mask == null ? null : Images.readGray(mask);
        if (maskImage != null && (maskImage.width() != image.width() || maskImage.height() != image.height())) {
            throw new BadInputException("the mask " + mask + " is " + maskImage.width() + "x" + maskImage.height()
                    + " but the init image is " + image.width() + "x" + image.height() + "; they must match");
        }
        InitImage init = new InitImage(image, maskImage, s, encoding, noisingMode);
        MaskOptions options = maskOptions();
        if (outpaint != null) {
            Outpaint grow = Outpaint.parse(outpaint);
            return grow.apply(init, options);
        }
        if (options != null && maskImage == null) {
            throw new BadInputException("--mask-blur, --invert-mask, --masked-content and --inpaint-area/--inpaint-padding "
                    + "need --mask (or --outpaint)");
        }
        return options == null ? init : init.withMaskOptions(options);
    }

    /** AUTOMATIC1111's inpainting options from the flags; null when none is given (the mask is used as given). */
    private MaskOptions maskOptions() {
        boolean any = maskBlur != null || invertMask || maskedContent != null || inpaintArea != null
                || inpaintPadding != null || outpaint != null;
        if (!any) {
            return null;
        }
        if (outpaint != null && (mask != null || invertMask || inpaintArea != null || inpaintPadding != null)) {
            throw new BadInputException("--outpaint makes its own mask: it takes no --mask, --invert-mask, "
                    + "--inpaint-area or --inpaint-padding");
        }
        boolean onlyMasked = false;
        if (inpaintArea != null) {
            String a = inpaintArea.trim().toLowerCase(Locale.ROOT);
            if (!a.equals("whole") && !a.equals("masked")) {
                throw new BadInputException("--inpaint-area: expected whole or masked, got '" + inpaintArea + "'");
            }
            onlyMasked = a.equals("masked");
        }
        MaskOptions.MaskedContent content = maskedContent != null ? MaskOptions.MaskedContent.parse(maskedContent)
                : outpaint != null ? MaskOptions.MaskedContent.FILL : MaskOptions.MaskedContent.ORIGINAL;
        return new MaskOptions(maskBlur == null ? 4 : maskBlur, invertMask, content, onlyMasked,
                inpaintPadding == null ? 32 : inpaintPadding);
    }

    /** Refuses hires flags that cannot apply, before anything is loaded. */
    private void checkHiresFlags(InitImage init) {
        boolean any = hiresScale != null || hiresResize != null || hiresSteps != null || hiresDenoise != null
                || hiresUpscaler != null || hiresUpscaleModel != null;
        if (!any) {
            return;
        }
        if (init != null) {
            throw new BadInputException("--hires-* apply to text-to-image only (no -i/--init-img)");
        }
        boolean x4 = hiresUpscaler != null && hiresUpscaler.trim().equalsIgnoreCase("x4");
        if (x4 != (hiresUpscaleModel != null)) {
            throw new BadInputException(x4 ? "--hires-upscaler x4 needs --hires-upscale-model FILE"
                    : "--hires-upscale-model is used by --hires-upscaler x4 only");
        }
        hiresFix(null, false); // checks the values
    }

    private dev.ldm4j.pipeline.HiresFix hiresFix(LatentDiffusionModel x4) {
        return hiresFix(x4, true);
    }

    /** The hires fix the flags ask for (null: none); {@code withModel} false checks the values only. */
    private dev.ldm4j.pipeline.HiresFix hiresFix(LatentDiffusionModel x4, boolean withModel) {
        if (hiresScale == null && hiresResize == null && hiresSteps == null && hiresDenoise == null
                && hiresUpscaler == null && hiresUpscaleModel == null) {
            return null;
        }
        int[] resize = hiresResize == null ? new int[] {0, 0} : pair("--hires-resize", hiresResize, "x");
        String name = hiresUpscaler == null ? "Latent" : hiresUpscaler.trim();
        boolean x4Name = name.equalsIgnoreCase("x4");
        if (x4Name && !withModel) {
            name = "Latent";
        }
        try {
            return new dev.ldm4j.pipeline.HiresFix(hiresScale == null ? 2.0 : hiresScale, resize[0], resize[1],
                    hiresSteps == null ? 0 : hiresSteps, hiresDenoise == null ? 0.7 : hiresDenoise, name,
                    x4Name ? x4 : null);
        } catch (dev.ldm4j.io.BadRequestException e) {
            throw new BadInputException("--hires-*: " + e.getMessage());
        }
    }

    private static void requireInitImage(String flag, Object value) {
        if (value != null) {
            throw new BadInputException(flag + " needs an init image (-i/--init-img)");
        }
    }

    /** The enum constant a flag value names (case-insensitive), or {@code fallback} when the flag is absent. */
    private static <E extends Enum<E>> E choice(String flag, String value, E fallback) {
        if (value == null) {
            return fallback;
        }
        for (E e : fallback.getDeclaringClass().getEnumConstants()) {
            if (e.name().equalsIgnoreCase(value.trim())) {
                return e;
            }
        }
        throw new BadInputException(flag + ": unknown value '" + value + "'; valid: "
                + Arrays.stream(fallback.getDeclaringClass().getEnumConstants())
                        .map(e -> e.name().toLowerCase(Locale.ROOT))
                        .collect(Collectors.joining(", ")));
    }

    /**
     * Estimates the run's peak memory from the file's header; refuses a run that cannot fit. Where only the
     * whole-image VAE decode is too big and tiling was not chosen either way, it decodes in tiles instead.
     */
    private void checkMemory(ModelLoader.Options load, GenerationRequest r) {
        if (!java.nio.file.Files.isRegularFile(model) && !dev.ldm4j.model.DiffusersFolder.is(model)) {
            return; // loading reports the missing file with its own message
        }
        long available = MemoryPlan.availableBytes();
        MemoryPlan plan = Generator.memoryPlan(load, r, new Generator.Options(vaeTiling), available);
        if (refiner != null && java.nio.file.Files.isRegularFile(refiner)) {
            plan = plan.withMoreWeights(Generator.memoryPlan(new ModelLoader.Options(refiner, null, null, null,
                    load.precision(), load.vaePrecision(), load.device(), null), r, new Generator.Options(vaeTiling),
                    available).weightBytes());
        }
        if (vaeTiling == null && plan.tiledToFit()) {
            System.err.printf(java.util.Locale.ROOT, "decoding in tiles: a whole-image decode would not fit in the "
                    + "%.1f GB available (--no-vae-tiling to refuse instead)%n", available / 1e9);
            vaeTiling = true;
        }
        if (verbose) {
            System.err.printf("%s; available %.2f GB%n", plan.describe(), available / 1e9);
        }
        if (available > 0 && plan.peakBytes() > available && !ignoreMemoryPlan) {
            throw new BadInputException(String.format(java.util.Locale.ROOT,
                    "this run needs about %.1f GB but %.1f GB are available; try %s (or --ignore-memory-plan)",
                    plan.peakBytes() / 1e9, available / 1e9, plan.advice()));
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
