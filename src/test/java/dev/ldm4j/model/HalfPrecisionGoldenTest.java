package dev.ldm4j.model;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.Precision;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Weights;
import dev.ldm4j.pipeline.GenerationRequest;
import dev.ldm4j.pipeline.GenerationResult;
import dev.ldm4j.pipeline.Generator;
import dev.ldm4j.sampling.StepListener;
import dev.ldm4j.text.ClipTextConfig;
import dev.ldm4j.text.ClipTextModel;
import dev.ldm4j.unet.Conditioning;
import dev.ldm4j.unet.UNetModel;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The golden cases in bf16 and fp16. The references are float32, so the tolerance is not the manifest's but
 * one derived from the format: with unit roundoff u (bf16 2^-8, fp16 2^-11; values round to within u/2
 * relative), every weight and every stored activation on the longest path of the tiny UNet (about 35
 * sequential ops: embeddings, ~12 blocks of norm, conv or attention, residual add) adds a relative error of
 * at most u/2 of its magnitude. Errors of independent roundings add like a random walk, and the norms can
 * amplify them by a few times; 32 u times max(1, max|ref|) covers that with room (the observed errors are
 * 10-20 u) while a real mistake in a block (an error of the order of the output itself) still fails.
 */
@org.junit.jupiter.api.Tag("golden")
class HalfPrecisionGoldenTest {
    static double unitRoundoff(Precision p) {
        return p == Precision.BF16 ? Math.pow(2, -8) : Math.pow(2, -11);
    }

    static double tolerance(Precision p, Tensor ref) {
        double max = ref.abs().max().item().toDouble();
        return 32 * unitRoundoff(p) * Math.max(1, max);
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({
        "sd1-tiny, unet_t1_t999, eps, bf16", "sd1-tiny, unet_t500, eps, bf16",
        "sd2-tiny, unet_t1_t999, model_output_v, bf16", "sd2-tiny, unet_t500, model_output_v, bf16",
        "sd1-tiny, unet_t1_t999, eps, fp16", "sd2-tiny, unet_t500, model_output_v, fp16"
    })
    void unet(String folder, String id, String output, String precision) {
        Precision p = Precision.parse(precision);
        ModelConfig c = ModelConfig.fromYaml(Fixtures.path(folder + "/config.yaml"));
        try (SafetensorsFile f = Fixtures.open(folder + "/model.safetensors");
             SafetensorsFile cf = Fixtures.open(folder + "/cases/" + id + ".safetensors");
             InferenceMode g = new InferenceMode()) {
            UNetModel unet = new UNetModel(Weights.of(new CheckpointSource(f, p.scalarType()), "model.diffusion_model."),
                    c.unet());
            Tensor out = unet.forward(Tensors.readFloat(cf, "x"), Tensors.readFloat(cf, "timesteps"),
                    Conditioning.crossAttn(Tensors.readFloat(cf, "context")));
            assertEquals(org.bytedeco.pytorch.global.torch.ScalarType.Float, Tensors.scalarType(out));
            Tensor ref = Tensors.read(cf, output);
            assertClose(ref, out, tolerance(p, ref), folder + " " + id + " in " + precision);
        }
    }

    @Test
    void clipTextEncoderInBf16() {
        ModelConfig c = ModelConfig.fromYaml(Fixtures.path("sd1-tiny/config.yaml"));
        try (SafetensorsFile f = Fixtures.open("sd1-tiny/model.safetensors");
             SafetensorsFile cf = Fixtures.open("sd1-tiny/cases/text_encoder.safetensors");
             InferenceMode g = new InferenceMode()) {
            ClipTextModel m = new ClipTextModel(Weights.of(new CheckpointSource(f, Precision.BF16.scalarType()),
                    "cond_stage_model.transformer.text_model."), ClipTextConfig.fromMap(c.textModelConfig()));
            Tensor ref = Tensors.read(cf, "last_hidden_state");
            assertClose(ref, m.encode(Tensors.read(cf, "input_ids")).to(
                    org.bytedeco.pytorch.global.torch.ScalarType.Float), tolerance(Precision.BF16, ref), "CLIP in bf16");
        }
    }

    /**
     * A whole seeded run in bf16. Ten guided DDIM steps compound the per-step error, and guidance at scale s
     * turns an error e in each branch into up to (1 + 2 s) e = 16 e in the guided output, so the single-UNet
     * bound does not carry over. The checks are on the decoded image: mean error under 2 8-bit levels (the
     * same picture; measured 1.4 levels, while another seed differs by 73 levels on this model, asserted
     * below), and worst pixel under (1 + 2 s) 32 u / 8 = 0.25, a loose sanity bound (measured 0.042).
     */
    @Test
    void seededRunInBf16StaysCloseToTheReferenceImage() {
        LatentDiffusionModel sd = ModelLoader.load(new ModelLoader.Options(Fixtures.path("sd1-tiny/model.safetensors"),
                Fixtures.path("sd1-tiny/config.yaml"), null, null, Precision.BF16, Precision.FP32));
        assertEquals(Precision.BF16, sd.precision());
        GenerationRequest r = new GenerationRequest("a photograph of an astronaut riding a horse", "", 64, 64, 10,
                7.5, "ddim", "discrete", 0, 42, 1, 0);
        try (SafetensorsFile cf = Fixtures.open("sd1-tiny/cases/seeded_ddim_64x64.safetensors");
             GenerationResult result = new Generator(sd).generate(r, StepListener.NONE)) {
            Tensor ref = Tensors.read(cf, "image");
            double mean = ref.sub(result.images()).abs().mean().item().toDouble();
            assertTrue(mean < 2.0 / 255, "mean abs image error " + mean);
            assertClose(ref, result.images(), (1 + 2 * 7.5) * 32 * unitRoundoff(Precision.BF16) / 8, "bf16 image");
            // and a different seed is far outside that: the bound can fail
            try (GenerationResult other = new Generator(sd).generate(r.withSeed(43), StepListener.NONE)) {
                assertTrue(ref.sub(other.images()).abs().mean().item().toDouble() > 10.0 / 255);
            }
        }
    }

    @Test
    void autoPicksFloat32ForTinyModels() {
        assertEquals(Precision.FP32, Precision.auto(1_000_000));
        LatentDiffusionModel sd = ModelLoader.load(new ModelLoader.Options(Fixtures.path("sd1-tiny/model.safetensors"),
                Fixtures.path("sd1-tiny/config.yaml"), null, null));
        assertEquals(Precision.FP32, sd.precision());
    }
}
