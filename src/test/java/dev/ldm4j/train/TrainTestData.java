package dev.ldm4j.train;

import dev.ldm4j.data.Example;
import dev.ldm4j.model.ModelConfig;
import dev.ldm4j.nn.Tensors;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The tiny model config and synthetic images the training tests share. */
final class TrainTestData {
    private static final float[][] COLORS = {{1, -1, -1}, {-1, -1, 1}, {-1, 1, -1}, {1, 1, -1}};
    private static final String[] NAMES = {"red", "blue", "green", "yellow"};

    private TrainTestData() {}

    /** tiny-ldm.yaml: 16x16 images, f = 2 autoencoder, 32-channel UNet, one-layer text encoder. */
    static Path tinyConfigPath() {
        try {
            return Path.of(TrainTestData.class.getResource("tiny-ldm.yaml").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static ModelConfig tinyConfig() {
        return ModelConfig.fromYaml(tinyConfigPath());
    }

    /**
     * {@code n} images of {@code size} x {@code size}: a coloured square on a white ground, its place and colour
     * varying with the index, captioned "a COLOUR square".
     */
    static List<Example> squares(int n, int size) {
        List<Example> out = new ArrayList<>();
        int side = size / 2;
        for (int i = 0; i < n; i++) {
            float[] c = COLORS[i % COLORS.length];
            int ox = (i * 3) % (size - side + 1);
            int oy = (i * 5) % (size - side + 1);
            float[] px = new float[3 * size * size];
            for (int ch = 0; ch < 3; ch++) {
                for (int y = 0; y < size; y++) {
                    for (int x = 0; x < size; x++) {
                        boolean in = x >= ox && x < ox + side && y >= oy && y < oy + side;
                        px[(ch * size + y) * size + x] = in ? c[ch] : 1f;
                    }
                }
            }
            out.add(new Example("square-" + i, "a " + NAMES[i % NAMES.length] + " square",
                    Tensors.fromFloats(px, 3, size, size)));
        }
        return out;
    }

    static InMemoryData squaresData(int n, int size, long seed) {
        return new InMemoryData(squares(n, size), seed);
    }
}
