package dev.ldm4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Torch;
import dev.ldm4j.sampling.Step;
import dev.ldm4j.sampling.StepListener;
import java.util.concurrent.atomic.AtomicInteger;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** Previews cost a decode: a job nobody watches makes none; one that is watched gets them. */
class JobProgressTest {
    @Test
    void previewsOnlyWhileSomeoneWatches() {
        Torch.load();
        try (PointerScope scope = new PointerScope()) {
            Tensor x = Tensors.fromFloats(new float[] {0}, 1, 1, 1, 1);
            JobProgress progress = new JobProgress();
            AtomicInteger drawn = new AtomicInteger();
            progress.start("txt2img", 1, this);
            StepListener unwatched = progress.listener(d -> {
                drawn.incrementAndGet();
                return null;
            });
            unwatched.afterStep(new Step(0, 10, x, x));
            assertEquals(0, drawn.get(), "a preview was made for a job nobody watches");

            progress.preview(); // a client asks for the current image
            unwatched.afterStep(new Step(1, 10, x, x));
            assertEquals(1, drawn.get(), "a watched job makes a preview");
        }
    }
}
