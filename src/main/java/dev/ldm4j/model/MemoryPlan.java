package dev.ldm4j.model;

import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.Precision;
import dev.ldm4j.vae.TiledDecode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Peak memory of a generation, estimated from the checkpoint's header and the request before anything is
 * loaded, so that a run that cannot fit is refused with a way out instead of dying of OOM halfway.
 *
 * <p>Weights are counted exactly (parameters times the bytes of their dtype). Activations follow from
 * measurements of SD 1.5 (docs/benchmarks.md): a UNet step keeps about {@link #UNET_BYTES_PER_UNIT} bytes per
 * (batch x latent pixel x model channel x element byte), the VAE decoder about {@link #VAE_BYTES_PER_UNIT}
 * bytes per (image pixel x base channel x element byte); both carry a 1.5x margin. Text encoding is small.
 *
 * @param baseBytes JVM, libtorch and the tokenizer
 * @param tiledToFit the decode is tiled only because a whole-image decode would not fit ({@link #fitting})
 */
public record MemoryPlan(long baseBytes, long weightBytes, long textBytes, long unetBytes, long vaeBytes,
                         boolean vaeTiled, Precision precision, Precision vaePrecision, boolean tiledToFit) {

    static final long BASE = 600L << 20;
    static final double UNET_BYTES_PER_UNIT = 67 * 1.5;
    static final double VAE_BYTES_PER_UNIT = 12.7 * 1.5;
    static final long TEXT = 200L << 20;

    public long peakBytes() {
        return baseBytes + weightBytes + Math.max(textBytes, Math.max(unetBytes, vaeBytes));
    }

    /**
     * @param precision UNet/text precision, null for {@link Precision#auto}
     * @param vaeTiling null for automatic
     */
    public static MemoryPlan estimate(SafetensorsFile f, ModelConfig c, Precision precision, Precision vaePrecision,
                                      Boolean vaeTiling, int width, int height, int batch, boolean guided) {
        return estimate(f, c, precision, vaePrecision, vaeTiling, width, height, batch, guided, 0);
    }

    /**
     * As above, for a UNet run in latent tiles of at most {@code unetTile} x {@code unetTile} (0: the whole
     * latent at once), as the x4 upscaler runs it: one tile's activations are alive at a time.
     *
     * @param width  the decoded image's width (for the x4 upscaler 4x its input's)
     */
    public static MemoryPlan estimate(SafetensorsFile f, ModelConfig c, Precision precision, Precision vaePrecision,
                                      Boolean vaeTiling, int width, int height, int batch, boolean guided,
                                      int unetTile) {
        long unetParams = Architecture.paramCount(f, Architecture.UNET);
        Precision p = precision != null ? precision : Precision.auto(unetParams);
        Precision vp = vaePrecision != null ? vaePrecision : Precision.FP32;
        long bytes = bytes(p);
        long weights = unetParams * bytes + f.keys().stream().filter(k -> c.architecture().component(k).equals("text encoder"))
                .mapToLong(k -> f.info(k).numel()).sum() * bytes
                + Architecture.paramCount(f, Architecture.VAE) * bytes(vp);
        int factor = 1 << (c.vae().chMult().length - 1);
        long latentW = width / factor;
        long latentH = height / factor;
        long latentPixels = unetTile > 0 ? Math.min(latentW, unetTile) * Math.min(latentH, unetTile)
                : latentW * latentH;
        long unet = (long) (UNET_BYTES_PER_UNIT * batch * (guided ? 2 : 1) * latentPixels
                * c.unet().modelChannels() * bytes);
        boolean tiled = TiledDecode.wanted(vaeTiling, (long) width * height);
        long decodedPixels = tiled
                ? (long) Math.min(width, TiledDecode.TILE * factor) * Math.min(height, TiledDecode.TILE * factor)
                : (long) width * height;
        long vae = (long) (VAE_BYTES_PER_UNIT * decodedPixels * c.vae().ch() * bytes(vp))
                + (long) batch * 3 * width * height * 4 * 2;
        return new MemoryPlan(BASE, weights, TEXT, unet, vae, tiled, p, vp, false);
    }

    /**
     * As {@link #estimate}, for a machine with {@code availableBytes} free: where tiling was left automatic
     * ({@code vaeTiling} null) and only the whole-image decode keeps the run from fitting, the plan decodes
     * in tiles instead.
     */
    public static MemoryPlan fitting(SafetensorsFile f, ModelConfig c, Precision precision, Precision vaePrecision,
                                     Boolean vaeTiling, int width, int height, int batch, boolean guided,
                                     long availableBytes) {
        return fitting(f, c, precision, vaePrecision, vaeTiling, width, height, batch, guided, 0, availableBytes);
    }

    /** As above, for a UNet run in latent tiles (see {@link #estimate(SafetensorsFile, ModelConfig, Precision,
     * Precision, Boolean, int, int, int, boolean, int)}). */
    public static MemoryPlan fitting(SafetensorsFile f, ModelConfig c, Precision precision, Precision vaePrecision,
                                     Boolean vaeTiling, int width, int height, int batch, boolean guided,
                                     int unetTile, long availableBytes) {
        MemoryPlan plan = estimate(f, c, precision, vaePrecision, vaeTiling, width, height, batch, guided, unetTile);
        if (vaeTiling != null || plan.vaeTiled() || availableBytes <= 0 || plan.peakBytes() <= availableBytes) {
            return plan;
        }
        MemoryPlan tiled = estimate(f, c, precision, vaePrecision, true, width, height, batch, guided, unetTile);
        return tiled.peakBytes() <= availableBytes ? new MemoryPlan(tiled.baseBytes, tiled.weightBytes,
                tiled.textBytes, tiled.unetBytes, tiled.vaeBytes, true, tiled.precision, tiled.vaePrecision, true) : plan;
    }

    /** This plan with a second model's weights held too (an SDXL refiner stays loaded beside its base). */
    public MemoryPlan withMoreWeights(long bytes) {
        return new MemoryPlan(baseBytes, weightBytes + bytes, textBytes, unetBytes, vaeBytes, vaeTiled, precision,
                vaePrecision, tiledToFit);
    }

    private static long bytes(Precision p) {
        return p == Precision.FP32 ? 4 : 2;
    }

    /** MemAvailable of this machine, or -1 when unknown. */
    public static long availableBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** What would make a run that does not fit fit, best first. */
    public String advice() {
        StringBuilder sb = new StringBuilder();
        if (vaeBytes >= unetBytes && !vaeTiled) {
            sb.append("--vae-tiling; ");
        }
        if (precision == Precision.FP32) {
            sb.append("--precision bf16; ");
        }
        if (vaePrecision == Precision.FP32 && vaeBytes >= unetBytes) {
            sb.append("--vae-precision bf16; ");
        }
        sb.append("a smaller -W/-H or -b");
        return sb.toString();
    }

    public String describe() {
        return String.format(Locale.ROOT, "memory plan: base %s + weights %s (unet/text %s, vae %s) + peak stage %s "
                + "(text %s, unet step %s, vae decode %s%s) = %s",
                gb(baseBytes), gb(weightBytes), precision.cliName(), vaePrecision.cliName(),
                gb(Math.max(textBytes, Math.max(unetBytes, vaeBytes))), gb(textBytes), gb(unetBytes), gb(vaeBytes),
                vaeTiled ? ", tiled" : "", gb(peakBytes()));
    }

    static String gb(long b) {
        return String.format(Locale.ROOT, "%.2f GB", b / 1e9);
    }
}
