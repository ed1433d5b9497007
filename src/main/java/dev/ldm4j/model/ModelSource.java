package dev.ldm4j.model;

import dev.ldm4j.io.InputFiles;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import java.nio.file.Path;

/**
 * A checkpoint opened for reading, whichever form it has: a single file ({@code .safetensors}, {@code .ckpt},
 * {@code .pt}) or a diffusers folder, seen in the single-file layout. Its config is the YAML given, else (a single
 * file) the YAML beside it, else the folder's own, else what the tensors' shapes say. Loading, {@code info} and
 * the memory plan all open a model this way.
 *
 * @param file   the tensors, by single-file name
 * @param config the model's config
 * @param yaml   the YAML the config was read from, or null
 * @param folder whether it is a diffusers folder
 */
public record ModelSource(SafetensorsFile file, ModelConfig config, Path yaml, boolean folder)
        implements AutoCloseable {

    /** Opens {@code model} with the config {@code yaml} (null: the one beside it, the folder's, or detected). */
    public static ModelSource open(Path model, Path yaml) {
        if (DiffusersFolder.is(model)) {
            DiffusersFolder.Opened opened = DiffusersFolder.open(model);
            try {
                return new ModelSource(opened.file(), yaml != null ? ModelConfig.fromYaml(yaml) : opened.config(),
                        yaml, true);
            } catch (RuntimeException e) {
                opened.close();
                throw e;
            }
        }
        InputFiles.problem(model).ifPresent(why -> {
            throw new ModelFileException(model + ": " + why);
        });
        SafetensorsFile f = SafetensorsFile.open(model);
        try {
            Path cfg = ModelConfig.configFor(model, yaml);
            return new ModelSource(f, cfg != null ? ModelConfig.fromYaml(cfg) : Architecture.detectConfig(f), cfg,
                    false);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** Whether the config was read from the tensors' shapes alone (no YAML, no folder config). */
    public boolean detected() {
        return yaml == null && !folder;
    }

    @Override
    public void close() {
        file.close();
    }
}
