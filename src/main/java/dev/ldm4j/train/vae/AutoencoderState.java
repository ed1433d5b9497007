package dev.ldm4j.train.vae;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.io.AtomicFiles;
import dev.ldm4j.io.DType;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.Tensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * The files of an autoencoder run. The exported model holds only the autoencoder, under
 * {@code first_stage_model.}, so it can be given to {@code generate --vae} or merged into an SD checkpoint;
 * its YAML (the {@link AutoencoderSpec}) lies beside it. The training state holds, in one float32 safetensors
 * file, both networks, both optimisers' moments and the generator state, with the step, the YAML and the
 * {@link VaeTrainOptions} in its metadata: what {@link #resume} needs to continue the run exactly. Every file
 * is written to a temporary file and moved into place.
 */
public final class AutoencoderState {
    static final String FORMAT = "ldm4j-vae-train-state/1";
    private static final String VAE_M = "train/adam_vae/exp_avg/";
    private static final String VAE_V = "train/adam_vae/exp_avg_sq/";
    private static final String DISC_M = "train/adam_disc/exp_avg/";
    private static final String DISC_V = "train/adam_disc/exp_avg_sq/";
    private static final String RNG = "train/generator_state";
    private static final ObjectMapper JSON = new ObjectMapper();

    private AutoencoderState() {}

    /** Writes the YAML, then the autoencoder's weights in {@code dtype} under {@code first_stage_model.}. */
    public static void export(Path model, Path yaml, AutoencoderTrainer trainer, DType dtype) {
        AtomicFiles.writeString(yaml, trainer.spec().toYaml());
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            trainer.vaeParameters().forEach((k, t) -> out.put(k, t.detach().to(Tensors.scalarType(dtype))));
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "pt");
            meta.put("ldm4j.vae_trainer.steps", Long.toString(trainer.steps()));
            Tensors.write(model, out, meta);
        }
    }

    public static void write(Path path, AutoencoderTrainer trainer) {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            trainer.vaeParameters().forEach((k, t) -> out.put(k, t.detach()));
            trainer.discriminatorParameters().forEach((k, t) -> out.put(k, t.detach()));
            trainer.vaeOptimizer().expAvg().forEach((k, t) -> out.put(VAE_M + k, t));
            trainer.vaeOptimizer().expAvgSq().forEach((k, t) -> out.put(VAE_V + k, t));
            trainer.discOptimizer().expAvg().forEach((k, t) -> out.put(DISC_M + k, t));
            trainer.discOptimizer().expAvgSq().forEach((k, t) -> out.put(DISC_V + k, t));
            out.put(RNG, trainer.generatorState());
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", FORMAT);
            meta.put("step", Long.toString(trainer.steps()));
            meta.put("adam_vae_steps", Long.toString(trainer.vaeOptimizer().steps()));
            meta.put("adam_disc_steps", Long.toString(trainer.discOptimizer().steps()));
            meta.put("autoencoder_config", trainer.spec().toYaml());
            meta.put("train_options", JSON.writeValueAsString(trainer.options()));
            Tensors.write(path, out, meta);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode the training options", e);
        }
    }

    /** The saved run's step, config and options, without loading weights. */
    public record Summary(long step, AutoencoderSpec spec, VaeTrainOptions options) {}

    public static Summary summary(Path path) {
        try (SafetensorsFile f = open(path)) {
            return new Summary(longOf(f, "step"), specOf(f), optionsOf(f));
        }
    }

    /** A trainer in the saved state, with the saved config and options. */
    public static AutoencoderTrainer resume(Path path) {
        try (SafetensorsFile f = open(path)) {
            AutoencoderSpec spec = specOf(f);
            VaeTrainOptions options = optionsOf(f);
            AutoencoderTrainer t;
            try {
                // one source per network: each network's parameters are what its source handed out
                t = new AutoencoderTrainer(spec, options, new CheckpointSource(f), new CheckpointSource(f));
            } catch (ModelFileException e) {
                throw new ModelFileException(path + ": the saved weights do not match the saved config: "
                        + e.getMessage());
            }
            try (PointerScope scope = new PointerScope()) {
                t.restore(longOf(f, "step"), require(f, RNG, false), longOf(f, "adam_vae_steps"),
                        moments(f, VAE_M, t.vaeParameters()), moments(f, VAE_V, t.vaeParameters()),
                        longOf(f, "adam_disc_steps"), moments(f, DISC_M, t.discriminatorParameters()),
                        moments(f, DISC_V, t.discriminatorParameters()));
            }
            return t;
        }
    }

    private static Map<String, Tensor> moments(SafetensorsFile f, String prefix, Map<String, Tensor> params) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String k : params.keySet()) {
            out.put(k, require(f, prefix + k, true));
        }
        return out;
    }

    private static SafetensorsFile open(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new ModelFileException(path + ": no autoencoder training state to resume from");
        }
        SafetensorsFile f = SafetensorsFile.open(path);
        if (!FORMAT.equals(f.metadata().get("format"))) {
            f.close();
            throw new ModelFileException(path + ": not an ldm4j autoencoder training state (format "
                    + f.metadata().get("format") + ")");
        }
        return f;
    }

    private static Tensor require(SafetensorsFile f, String key, boolean asFloat) {
        if (!f.has(key)) {
            throw new ModelFileException(f.path() + ": training state lacks '" + key + "'");
        }
        return asFloat ? Tensors.readFloat(f, key) : Tensors.read(f, key);
    }

    private static long longOf(SafetensorsFile f, String key) {
        try {
            return Long.parseLong(f.metadata().get(key));
        } catch (NumberFormatException e) {
            throw new ModelFileException(f.path() + ": training state metadata '" + key + "' is missing or broken");
        }
    }

    private static AutoencoderSpec specOf(SafetensorsFile f) {
        String yaml = f.metadata().get("autoencoder_config");
        if (yaml == null) {
            throw new ModelFileException(f.path() + ": training state has no autoencoder_config");
        }
        return AutoencoderSpec.parse(yaml);
    }

    private static VaeTrainOptions optionsOf(SafetensorsFile f) {
        try {
            return JSON.readValue(f.metadata().get("train_options"), VaeTrainOptions.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new ModelFileException(f.path() + ": training state has no readable train_options ("
                    + e.getMessage() + ")");
        }
    }
}
