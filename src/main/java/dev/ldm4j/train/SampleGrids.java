package dev.ldm4j.train;

import dev.ldm4j.io.ImageGrid;
import dev.ldm4j.io.Images;
import dev.ldm4j.io.RgbImage;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.ImageTensors;
import dev.ldm4j.nn.Precision;
import dev.ldm4j.pipeline.GenerationRequest;
import dev.ldm4j.pipeline.GenerationResult;
import dev.ldm4j.pipeline.Generator;
import dev.ldm4j.pipeline.Parameters;
import dev.ldm4j.sampling.StepListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At every checkpoint, a grid of samples for fixed prompts and a fixed seed, made from the exported model by
 * the same pipeline as {@code ldm4j generate}, written to {@code samples/step_NNNNNN.png} in the run folder:
 * a run's progress at a glance. A failing sample is logged, never fatal to the training.
 */
public final class SampleGrids implements TrainListener {
    private static final Logger LOG = LoggerFactory.getLogger(SampleGrids.class);

    private final Path dir;
    private final List<String> prompts;
    private final int size;
    private final long seed;

    public SampleGrids(Path runDir, List<String> prompts, int size, long seed) {
        this.dir = runDir.resolve("samples");
        this.prompts = List.copyOf(prompts);
        this.size = size;
        this.seed = seed;
    }

    @Override
    public void onCheckpoint(long step, Path model, Path config, Path state) {
        try (PointerScope scope = new PointerScope();
             LatentDiffusionModel sd = ModelLoader.load(ModelLoader.Options.of(model).withConfig(config)
                     .withPrecision(Precision.FP32, Precision.FP32))) {
            Files.createDirectories(dir);
            Generator generator = new Generator(sd);
            List<RgbImage> images = new ArrayList<>();
            for (String p : prompts) {
                GenerationRequest r = new GenerationRequest(p, "", size, size, 20, 5.0, "dpm++2m", "karras", 0, seed,
                        1, 0);
                try (GenerationResult g = generator.generate(r, StepListener.NONE)) {
                    images.add(ImageTensors.toRgb8(g.images()).get(0));
                }
            }
            Path out = dir.resolve(String.format("step_%06d.png", step));
            String text = "step " + step + "\n" + String.join("\n", prompts) + "\n"
                    + Parameters.a1111(new GenerationRequest(prompts.get(0), "", size, size, 20, 5.0, "dpm++2m",
                            "karras", 0, seed, 1, 0), model.getFileName().toString());
            Images.writePng(out, ImageGrid.tile(images, Math.min(4, images.size()), 2), Map.of(Images.PARAMETERS, text));
            LOG.info("samples of step {}: {}", step, out);
        } catch (java.io.IOException | RuntimeException e) {
            LOG.warn("could not make the samples of step {}: {}", step, e.getMessage());
        }
    }
}
