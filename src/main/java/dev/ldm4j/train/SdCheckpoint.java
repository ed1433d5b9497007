package dev.ldm4j.train;

import dev.ldm4j.io.AtomicFiles;
import dev.ldm4j.io.DType;
import dev.ldm4j.nn.Tensors;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Publishes a trained model as a single-file Stable Diffusion checkpoint ({@code model.diffusion_model.*},
 * {@code first_stage_model.*}, {@code cond_stage_model.*}, plus {@code alphas_cumprod}) with its LDM YAML
 * beside it, so that {@code ldm4j generate -m FILE --config YAML} and {@code StableDiffusion.load} load it like
 * any SD model. The weights are the EMA weights when the run keeps an EMA. Both files appear atomically.
 */
public final class SdCheckpoint {
    private SdCheckpoint() {}

    /** Writes the YAML first, then the weights (in {@code dtype}), so a model file never lacks its config. */
    public static void write(Path model, Path yaml, DiffusionTrainer trainer, DType dtype) {
        write(model, yaml, trainer, dtype, 0);
    }

    /** As {@link #write(Path, Path, DiffusionTrainer, DType)}, recording the training image size (0 = none). */
    public static void write(Path model, Path yaml, DiffusionTrainer trainer, DType dtype, int imageSize) {
        LatentDiffusion m = trainer.model();
        AtomicFiles.writeString(yaml, LdmYaml.of(m, imageSize));
        ScalarType st = Tensors.scalarType(dtype);
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            trainer.exportWeights().forEach((k, t) -> out.put(k, t.detach().to(st)));
            out.put("alphas_cumprod", Tensors.fromFloats(m.schedule().alphasCumprod(), m.schedule().size()));
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "pt");
            meta.put("ldm4j.trainer.steps", Long.toString(trainer.steps()));
            meta.put("ldm4j.trainer.weights", trainer.ema() != null ? "ema" : "raw");
            Tensors.write(model, out, meta);
        }
    }
}
