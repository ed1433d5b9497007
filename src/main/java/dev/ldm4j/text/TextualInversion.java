package dev.ldm4j.text;

import dev.ldm4j.io.InputFiles;
import dev.ldm4j.io.ModelFileException;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.Tensors;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * A textual-inversion embedding: a word (the file's stem) that stands for {@code count} learned token vectors,
 * one set per text tower. Files as AUTOMATIC1111 loads them:
 * <ul>
 *   <li>A1111's own {@code .pt}: {@code string_to_param} with one entry {@code [count, dim]};</li>
 *   <li>one tensor alone ({@code .safetensors} with {@code emb_params}, a diffusers concept {@code .bin}
 *       {@code {"<token>": [dim]}}): the vectors of a one-tower model;</li>
 *   <li>SDXL: {@code clip_l [count, 768]} and {@code clip_g [count, 1280]}.</li>
 * </ul>
 * The {@code .pt}/{@code .bin} pickles are read without running them ({@link SafetensorsFile#open}).
 *
 * @param name   the word that calls it up in a prompt
 * @param file   where it was read from
 * @param towers the vectors per tower: {@link #ONE_TOWER} for a single tensor, else "clip_l" / "clip_g"
 */
public record TextualInversion(String name, Path file, Map<String, Vectors> towers) {
    /** The tower key of an embedding stored as one tensor (SD 1.x, SD 2.x). */
    public static final String ONE_TOWER = "";
    /** SDXL's tower keys, as A1111 and kohya write them. */
    public static final String CLIP_L = "clip_l";
    public static final String CLIP_G = "clip_g";
    /** The most vectors one word may stand for: a whole prompt chunk. */
    public static final int MAX_VECTORS = PromptChunker.CHUNK_TOKENS;

    /** {@code count} vectors of width {@code dim}, row-major float32. */
    public record Vectors(int count, int dim, float[] data) {
        public Vectors {
            if (count < 1 || dim < 1 || data.length != (long) count * dim) {
                throw new IllegalArgumentException(count + " x " + dim + " vectors with " + data.length + " numbers");
            }
        }
    }

    public TextualInversion {
        towers = Map.copyOf(towers);
        if (towers.isEmpty()) {
            throw new IllegalArgumentException("an embedding has vectors for at least one tower");
        }
        int n = -1;
        for (Vectors v : towers.values()) {
            if (n != -1 && v.count() != n) {
                throw new ModelFileException(file + ": its towers have different numbers of vectors");
            }
            n = v.count();
        }
    }

    /** How many token positions the word takes in a prompt. */
    public int vectors() {
        return towers.values().iterator().next().count();
    }

    /** The sum of the towers' widths: what A1111 compares with the model's ("shape"). */
    public int shape() {
        return towers.values().stream().mapToInt(Vectors::dim).sum();
    }

    /** Reads an embedding file; its name is the file's stem. */
    public static TextualInversion read(Path file) {
        String name = InputFiles.stem(file);
        try (SafetensorsFile f = SafetensorsFile.open(file); PointerScope scope = new PointerScope()) {
            Set<String> keys = f.keys();
            Map<String, Vectors> towers = new LinkedHashMap<>();
            List<String> params = keys.stream().filter(k -> k.startsWith("string_to_param.")).toList();
            if (!params.isEmpty()) {
                if (params.size() != 1) {
                    throw new ModelFileException(file + ": its string_to_param holds " + params.size()
                            + " terms; an embedding file has one");
                }
                towers.put(ONE_TOWER, vectors(f, params.get(0)));
            } else if (keys.contains(CLIP_L) && keys.contains(CLIP_G)) {
                towers.put(CLIP_L, vectors(f, CLIP_L));
                towers.put(CLIP_G, vectors(f, CLIP_G));
            } else if (keys.size() == 1) {
                towers.put(ONE_TOWER, vectors(f, keys.iterator().next()));
            } else {
                throw new ModelFileException(file + ": not a textual-inversion embedding (no string_to_param, no"
                        + " clip_l/clip_g, and " + keys.size() + " tensors where a concept file has one)");
            }
            return new TextualInversion(name, file, towers);
        }
    }

    private static Vectors vectors(SafetensorsFile f, String key) {
        long[] shape = f.info(key).shape();
        if (shape.length == 1) {
            shape = new long[] {1, shape[0]};
        }
        if (shape.length != 2 || shape[0] < 1 || shape[1] < 1) {
            throw new ModelFileException(f.path() + ": '" + key + "' has shape " + java.util.Arrays.toString(
                    f.info(key).shape()) + "; embedding vectors are [count, width]");
        }
        if (shape[0] > MAX_VECTORS) {
            throw new ModelFileException(f.path() + ": '" + key + "' holds " + shape[0] + " vectors; a word may"
                    + " stand for at most " + MAX_VECTORS + " (one prompt chunk)");
        }
        if (shape[1] > 1 << 16) {
            throw new ModelFileException(f.path() + ": '" + key + "' has vectors of width " + shape[1]);
        }
        Tensor t = Tensors.readFloat(f, key);
        float[] data = Tensors.toFloats(t.contiguous());
        for (float x : data) {
            if (!Float.isFinite(x)) {
                throw new ModelFileException(f.path() + ": '" + key + "' holds NaN or infinite numbers");
            }
        }
        return new Vectors((int) shape[0], (int) shape[1], data);
    }
}
