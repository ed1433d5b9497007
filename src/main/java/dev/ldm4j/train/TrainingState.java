package dev.ldm4j.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.nn.Tensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * Everything a run needs to continue exactly, in one safetensors file: every model parameter (float32, under
 * its checkpoint key, so the file loads as a model), the EMA weights, both AdamW moments, the torch generator
 * state, and in the metadata the step, the model's LDM YAML and the {@link TrainConfig}. Written atomically:
 * a crash while saving leaves the previous state in place.
 */
public final class TrainingState {
    static final String FORMAT = "ldm4j-train-state/1";
    private static final String EMA = "train/ema/";
    private static final String EXP_AVG = "train/adam/exp_avg/";
    private static final String EXP_AVG_SQ = "train/adam/exp_avg_sq/";
    private static final String RNG = "train/generator_state";
    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainingState() {}

    public static void write(Path path, DiffusionTrainer trainer) {
        LatentDiffusion m = trainer.model();
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            m.parameters().forEach((k, t) -> out.put(k, t.detach()));
            if (trainer.ema() != null) {
                trainer.ema().shadow().forEach((k, t) -> out.put(EMA + k, t));
            }
            trainer.optimizer().expAvg().forEach((k, t) -> out.put(EXP_AVG + k, t));
            trainer.optimizer().expAvgSq().forEach((k, t) -> out.put(EXP_AVG_SQ + k, t));
            out.put(RNG, trainer.generatorState());
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", FORMAT);
            meta.put("step", Long.toString(trainer.steps()));
            meta.put("adam_steps", Long.toString(trainer.optimizer().steps()));
            meta.put("ema_updates", Long.toString(trainer.ema() != null ? trainer.ema().updates() : 0));
            meta.put("text_trainable", Boolean.toString(m.textTrainable()));
            meta.put("model_config", LdmYaml.of(m));
            meta.put("train_config", JSON.writeValueAsString(trainer.config()));
            Tensors.write(path, out, meta);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode the training config", e);
        }
    }

    /** The run's step and training config as saved, without loading any weights. */
    public record Summary(long step, TrainConfig config) {}

    public static Summary summary(Path path) {
        try (SafetensorsFile f = open(path)) {
            return new Summary(longOf(f, "step"), configOf(f));
        }
    }

    /** A trainer in the state saved in {@code path}, with the saved training config. */
    public static DiffusionTrainer resume(Path path) {
        return resume(path, UnaryOperator.identity());
    }

    /**
     * A trainer in the state saved in {@code path}; {@code changes} may alter the saved training config (a
     * changed config no longer continues the run exactly).
     */
    public static DiffusionTrainer resume(Path path, UnaryOperator<TrainConfig> changes) {
        ModelConfig modelConfig;
        boolean textTrainable;
        TrainConfig config;
        long step;
        long adamSteps;
        long emaUpdates;
        try (SafetensorsFile f = open(path)) {
            modelConfig = modelConfigOf(f);
            textTrainable = Boolean.parseBoolean(f.metadata().get("text_trainable"));
            config = changes.apply(configOf(f));
            step = longOf(f, "step");
            adamSteps = longOf(f, "adam_steps");
            emaUpdates = longOf(f, "ema_updates");
        }
        LatentDiffusion model = LatentDiffusion.fromCheckpoint(path, modelConfig, textTrainable);
        DiffusionTrainer trainer = new DiffusionTrainer(model, config);
        try (SafetensorsFile f = SafetensorsFile.open(path); PointerScope scope = new PointerScope()) {
            Map<String, Tensor> ema = new LinkedHashMap<>();
            Map<String, Tensor> m = new LinkedHashMap<>();
            Map<String, Tensor> v = new LinkedHashMap<>();
            for (String k : model.trainable().keySet()) {
                if (f.has(EMA + k)) {
                    ema.put(k, Tensors.readFloat(f, EMA + k));
                }
                m.put(k, require(f, EXP_AVG + k));
                v.put(k, require(f, EXP_AVG_SQ + k));
            }
            if (!f.has(RNG)) {
                throw new ModelFileException(path + ": training state without a generator state");
            }
            trainer.restore(step, Tensors.read(f, RNG), adamSteps, m, v, emaUpdates, ema);
        }
        return trainer;
    }

    private static SafetensorsFile open(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new ModelFileException(path + ": no training state to resume from");
        }
        SafetensorsFile f = SafetensorsFile.open(path);
        if (!FORMAT.equals(f.metadata().get("format"))) {
            f.close();
            throw new ModelFileException(path + ": not an ldm4j training state (format "
                    + f.metadata().get("format") + ")");
        }
        return f;
    }

    private static Tensor require(SafetensorsFile f, String key) {
        if (!f.has(key)) {
            throw new ModelFileException(f.path() + ": training state lacks '" + key + "'");
        }
        return Tensors.readFloat(f, key);
    }

    private static long longOf(SafetensorsFile f, String key) {
        try {
            return Long.parseLong(f.metadata().get(key));
        } catch (NumberFormatException e) {
            throw new ModelFileException(f.path() + ": training state metadata '" + key + "' is missing or broken");
        }
    }

    private static TrainConfig configOf(SafetensorsFile f) {
        try {
            return JSON.readValue(f.metadata().get("train_config"), TrainConfig.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new ModelFileException(f.path() + ": training state has no readable train_config ("
                    + e.getMessage() + ")");
        }
    }

    /** ModelConfig reads YAML from files only: the saved text goes through a temporary one. */
    private static ModelConfig modelConfigOf(SafetensorsFile f) {
        String yaml = f.metadata().get("model_config");
        if (yaml == null) {
            throw new ModelFileException(f.path() + ": training state has no model_config");
        }
        Path tmp = null;
        try {
            tmp = Files.createTempFile("ldm4j-state-", ".yaml");
            Files.writeString(tmp, yaml);
            return ModelConfig.fromYaml(tmp);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // a stray temporary file is harmless
                }
            }
        }
    }
}
