package dev.ldm4j.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.Tensors;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/** Reading sampler fixture cases, and capturing tensors out of the samplers' per-step scopes. */
final class Golden {
    private Golden() {}

    static Tensor read(String folder, String caseId, String name) {
        String file = Fixtures.caseOf(folder, caseId).path("file").asText();
        try (SafetensorsFile f = Fixtures.open(folder + "/" + file)) {
            return Tensors.read(f, name);
        }
    }

    static float[] floats(String folder, String caseId, String name) {
        return Tensors.toFloats(read(folder, caseId, name));
    }

    /** The float32 alphas_cumprod buffer of a fixture checkpoint. */
    static NoiseSchedule checkpointSchedule(String folder) {
        try (SafetensorsFile f = Fixtures.open(folder + "/model.safetensors")) {
            return NoiseSchedule.fromAlphasCumprod(Tensors.toFloats(Tensors.read(f, "alphas_cumprod")));
        }
    }

    static double tol(String folder, String caseId, String output) {
        return Fixtures.tolerance(folder, caseId, output);
    }

    /** A copy of a tensor as Java data, which outlives the sampler's step scope. */
    record Captured(float[] data, long[] shape) {
        static Captured of(Tensor t) {
            return new Captured(Tensors.toFloats(t), Tensors.shape(t));
        }

        Tensor tensor() {
            return Tensors.fromFloats(data, shape);
        }
    }

    /** Records every finished step. */
    static final class Recorder implements StepListener {
        final List<Captured> latents = new ArrayList<>();
        final List<Captured> denoised = new ArrayList<>();
        final List<Integer> counts = new ArrayList<>();

        @Override
        public void afterStep(Step step) {
            assertEquals(latents.size(), step.index(), "step index");
            latents.add(Captured.of(step.latent()));
            denoised.add(Captured.of(step.denoised()));
            counts.add(step.count());
        }
    }

    /** Compares step i's captured tensor with {@code stacked[i]} of a [steps, ...] fixture tensor. */
    static void assertSteps(Tensor stacked, List<Captured> actual, int offset, double tol, String what) {
        for (int i = 0; i < actual.size(); i++) {
            Fixtures.assertClose(stacked.select(0, i + offset), actual.get(i).tensor(), tol, what + "[" + (i + offset) + "]");
        }
    }
}
