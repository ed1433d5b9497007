package dev.ldm4j;

import dev.ldm4j.model.DefaultModel;
import dev.ldm4j.model.LoraFile;
import dev.ldm4j.model.LoraPatch;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.ComputeDevice;
import dev.ldm4j.nn.Precision;
import dev.ldm4j.pipeline.Generator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Which model to load and how, set fluently; immutable. Unset values: the YAML beside the checkpoint (else the
 * architecture is detected from it), the checkpoint's own VAE, bf16 for full-size models on CPUs that compute
 * it natively (else fp32), a float32 VAE, CUDA when this build has it and a GPU is visible, and tiled VAE
 * decoding only above 1024x1024 pixels.
 *
 * <pre>{@code
 * StableDiffusion sd = StableDiffusion.load(ModelOptions.of(Path.of("v1-5-pruned-emaonly.safetensors"))
 *         .precision("bf16").vae(Path.of("vae-ft-mse-840000-ema-pruned.safetensors")));
 * }</pre>
 */
public final class ModelOptions {
    private final Path checkpoint;
    private final Path config;
    private final Path vae;
    private final Path taesd;
    private final String precision;
    private final String vaePrecision;
    private final String device;
    private final Boolean vaeTiling;
    private final List<Lora> loras;
    private final Path embeddings;

    /** A LoRA file merged at load, with its text-encoder and UNet multipliers. */
    record Lora(Path file, double textMultiplier, double unetMultiplier) {}

    private ModelOptions(Path checkpoint, Path config, Path vae, Path taesd, String precision, String vaePrecision,
                         String device, Boolean vaeTiling, List<Lora> loras, Path embeddings) {
        this.embeddings = embeddings;
        this.checkpoint = checkpoint;
        this.config = config;
        this.vae = vae;
        this.taesd = taesd;
        this.precision = precision;
        this.vaePrecision = vaePrecision;
        this.device = device;
        this.vaeTiling = vaeTiling;
        this.loras = List.copyOf(loras);
    }

    /** A single-file checkpoint (.safetensors, CompVis layout: SD 1.x, 2.x, their inpainting models). */
    public static ModelOptions of(Path checkpoint) {
        return new ModelOptions(Objects.requireNonNull(checkpoint, "checkpoint"), null, null, null, null, null, null,
                null, List.of(), null);
    }

    /** ldm4j's own small model (64x64 emoji), shipped with ldm4j: works offline, out of the box. */
    public static ModelOptions defaultModel() {
        return of(DefaultModel.resolve());
    }

    /** An LDM YAML config (v1-inference.yaml, v2-inference-v.yaml, ...). */
    public ModelOptions config(Path yaml) {
        return new ModelOptions(checkpoint, yaml, vae, taesd, precision, vaePrecision, device, vaeTiling,
                loras, embeddings);
    }

    /** A separate VAE file to use instead of the checkpoint's. */
    public ModelOptions vae(Path file) {
        return new ModelOptions(checkpoint, config, file, taesd, precision, vaePrecision, device, vaeTiling,
                loras, embeddings);
    }

    /** Decode with this TAESD decoder (fast, approximate). */
    public ModelOptions taesd(Path file) {
        return new ModelOptions(checkpoint, config, vae, file, precision, vaePrecision, device, vaeTiling,
                loras, embeddings);
    }

    /** UNet and text encoder dtype: fp32, bf16, fp16. */
    public ModelOptions precision(String p) {
        return new ModelOptions(checkpoint, config, vae, taesd, p, vaePrecision, device, vaeTiling, loras, embeddings);
    }

    /** VAE dtype: fp32 (default), bf16, fp16. */
    public ModelOptions vaePrecision(String p) {
        return new ModelOptions(checkpoint, config, vae, taesd, precision, p, device, vaeTiling, loras, embeddings);
    }

    /** auto, cpu, cuda. */
    public ModelOptions device(String d) {
        return new ModelOptions(checkpoint, config, vae, taesd, precision, vaePrecision, d, vaeTiling,
                loras, embeddings);
    }

    /** Decode in tiles (true), whole (false); default: tiles only above 1024x1024 pixels. */
    public ModelOptions vaeTiling(boolean tiled) {
        return new ModelOptions(checkpoint, config, vae, taesd, precision, vaePrecision, device, tiled,
                loras, embeddings);
    }

    /**
     * A LoRA (kohya format; see the README) merged into the weights at load, at multiplier m for text encoder
     * and UNet; several add up. A LoRA that matches nothing in the model fails the load.
     */
    public ModelOptions lora(Path file, double m) {
        return lora(file, m, m);
    }

    /** A LoRA with separate text-encoder and UNet multipliers. */
    public ModelOptions lora(Path file, double textMultiplier, double unetMultiplier) {
        List<Lora> all = new ArrayList<>(loras);
        all.add(new Lora(Objects.requireNonNull(file, "file"), textMultiplier, unetMultiplier));
        return new ModelOptions(checkpoint, config, vae, taesd, precision, vaePrecision, device, vaeTiling,
                all, embeddings);
    }

    /**
     * Textual-inversion embeddings from the files under {@code dir} (and its subfolders): a file's stem written
     * in a prompt stands for its vectors.
     */
    public ModelOptions embeddings(Path dir) {
        return new ModelOptions(checkpoint, config, vae, taesd, precision, vaePrecision, device, vaeTiling, loras,
                Objects.requireNonNull(dir, "dir"));
    }

    /** The LoRAs as one patch, or null. */
    LoraPatch loraPatch() {
        if (loras.isEmpty()) {
            return null;
        }
        return new LoraPatch(loras.stream().map(l -> new LoraPatch.Applied(LoraFile.read(l.file(),
                l.file().getFileName().toString().replaceFirst("\\.[^.]+$", "")), l.textMultiplier(),
                l.unetMultiplier())).toList());
    }

    Path checkpoint() {
        return checkpoint;
    }

    Path config() {
        return config;
    }

    ModelLoader.Options loaderOptions(LoraPatch patch) {
        return new ModelLoader.Options(checkpoint, config, vae, taesd,
                precision == null ? null : Precision.parse(precision),
                vaePrecision == null ? null : Precision.parse(vaePrecision),
                device == null ? null : ComputeDevice.parse(device), patch == null ? null : List.of(patch), embeddings);
    }

    Generator.Options generatorOptions() {
        return new Generator.Options(vaeTiling);
    }
}
