package dev.ldm4j.model;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.text.SdxlTextEncoders;
import dev.ldm4j.unet.Conditioning;
import dev.ldm4j.unet.UNetModel;
import dev.ldm4j.vae.AutoencoderKL;
import java.util.List;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The SDXL architecture's pieces against sgm's outputs on the tiny SDXL model ({@code sdxl-tiny}). */
@Tag("golden")
class SdxlTest {
    private static final String FOLDER = "sdxl-tiny";
    private static LatentDiffusionModel model;

    @BeforeAll
    static void load() {
        model = ModelLoader.load(new ModelLoader.Options(Fixtures.path(FOLDER + "/model.safetensors"),
                Fixtures.path(FOLDER + "/config.yaml"), null, null));
    }

    @AfterAll
    static void close() {
        // null when the fixtures are absent and the class was skipped
        if (model != null) {
            model.close();
        }
    }

    private static double tol(String id, String name) {
        return Fixtures.tolerance(FOLDER, id, name);
    }

    @Test
    void configIsReadFromTheSgmYaml() {
        ModelConfig yaml = model.config();
        assertEquals(Architecture.SDXL, yaml.architecture());
        assertArrayEquals(new int[] {2, 1}, yaml.unet().transformerDepth());
        assertEquals(176, yaml.unet().admInChannels());
        assertEquals(0.13025, yaml.vae().scaleFactor());
        assertEquals("sdxl", yaml.architecture().name(yaml));
    }

    /**
     * Without a YAML, an SDXL-layout checkpoint of any size is read off its shapes (heads: 64 channels each, as
     * every released SDXL); here one of other widths, depths and vector size, with random weights.
     */
    @Test
    void anSdxlCheckpointOfAnotherSizeIsDetectedFromItsShapes(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        java.util.Map<String, Object> clip = new dev.ldm4j.text.ClipTextConfig(49408, 77, 64, 2, 1, 128,
                dev.ldm4j.text.Activation.QUICK_GELU, 1e-5).toMap();
        java.util.Map<String, Object> open = new dev.ldm4j.text.OpenClipTextConfig(77, 49408, 64, 1, 2, 4.0, 48,
                dev.ldm4j.text.Activation.GELU).toMap();
        java.util.Map<String, Object> text = new java.util.LinkedHashMap<>(java.util.Map.of("clip", clip,
                "clip_layer_idx", 1, "openclip", open, "size_embed_dim", 16));
        dev.ldm4j.unet.UNetConfig unet = new dev.ldm4j.unet.UNetConfig(4, 4, 64, new int[] {2}, 1, new int[] {1, 2},
                -1, 64, new int[] {1, 3}, 128, true, false, null, 0, 48 + 6 * 16);
        ModelConfig c = new ModelConfig(Architecture.SDXL, false, unet, "penultimate", text, model.config().vae(),
                0.00085, 0.012, 1000);
        java.nio.file.Path file = dir.resolve("other-sdxl.safetensors");
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            dev.ldm4j.nn.RandomSource random = new dev.ldm4j.nn.RandomSource(0,
                    org.bytedeco.pytorch.global.torch.ScalarType.Float);
            Architecture.SDXL.assemble(random, c, null);
            Tensors.write(file, random.taken());
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            ModelConfig detected = Architecture.detectConfig(f);
            assertEquals(Architecture.SDXL, detected.architecture());
            assertEquals(unet, detected.unet());
            // the resolution a VAE was trained at is not in its shapes and does not change the network
            assertEquals(c.vae().toString().replaceAll("resolution=\\d+", ""),
                    detected.vae().toString().replaceAll("resolution=\\d+", ""));
            assertEquals(16, detected.textModelConfig().get("size_embed_dim"));
            assertEquals(dev.ldm4j.text.ClipTextConfig.fromMap(clip),
                    dev.ldm4j.text.ClipTextConfig.fromMap(cast(detected.textModelConfig().get("clip"))));
            assertEquals(dev.ldm4j.text.OpenClipTextConfig.fromMap(open),
                    dev.ldm4j.text.OpenClipTextConfig.fromMap(cast(detected.textModelConfig().get("openclip"))));
        }
    }

    @SuppressWarnings("unchecked")
    private static java.util.Map<String, Object> cast(Object o) {
        return (java.util.Map<String, Object>) o;
    }

    /** The size conditioning a case's params name (sgm's original size, crop and target size). */
    static Conditioner.Sizes sizesOf(com.fasterxml.jackson.databind.JsonNode p) {
        return new Conditioner.Sizes(p.path("orig_height").asInt(), p.path("orig_width").asInt(),
                p.path("crop_coords_top").asInt(), p.path("crop_coords_left").asInt(), p.path("target_height").asInt(),
                p.path("target_width").asInt());
    }

    @Test
    void textEncodersMatchSgm() {
        String id = "text_encoders";
        try (SafetensorsFile cf = Fixtures.open(FOLDER + "/cases/" + id + ".safetensors");
             SafetensorsFile f = Fixtures.open(FOLDER + "/model.safetensors");
             InferenceMode g = new InferenceMode()) {
            SdxlTextEncoders text = (SdxlTextEncoders) Architecture.SDXL.textEncoder(new CheckpointSource(f),
                    model.config(), f);
            // the CLIP ids alone: the OpenCLIP tower derives its own padding from them
            Tensor ids = Tensors.read(cf, "input_ids_clip_l");
            Tensor expected = Ops.cat(-1, Tensors.read(cf, "clip_l_hidden"), Tensors.read(cf, "open_clip_penultimate"));
            assertClose(expected, text.encode(ids), Math.max(tol(id, "clip_l_hidden"), tol(id, "open_clip_penultimate")),
                    "context");
            assertClose(Tensors.read(cf, "open_clip_pooled"), text.pooled(ids), tol(id, "open_clip_pooled"), "pooled");
        }
    }

    @Test
    void conditionerMatchesSgmWithZeroedEmptyNegative() {
        String id = "conditioner";
        var p = Fixtures.caseOf(FOLDER, id).path("params");
        Conditioner.Sizes sizes = sizesOf(p);
        try (SafetensorsFile cf = Fixtures.open(FOLDER + "/cases/" + id + ".safetensors");
             InferenceMode g = new InferenceMode()) {
            Conditioning c = model.conditioner().condition(List.of(p.path("prompt").asText()),
                    new Conditioner.Inputs(0, null, 64, 64, false, sizes));
            Conditioning u = model.conditioner().condition(List.of(p.path("negative_prompt").asText()),
                    new Conditioner.Inputs(0, null, 64, 64, true, sizes));
            assertClose(Tensors.read(cf, "crossattn"), c.crossAttn(), tol(id, "crossattn"), "crossattn");
            assertClose(Tensors.read(cf, "vector"), c.vector(), tol(id, "vector"), "vector");
            assertClose(Tensors.read(cf, "uc_crossattn"), u.crossAttn(), tol(id, "uc_crossattn"), "uc_crossattn");
            assertClose(Tensors.read(cf, "uc_vector"), u.vector(), tol(id, "uc_vector"), "uc_vector");
        }
    }

    @Test
    void unetWithVectorConditioningMatchesSgm() {
        String id = "unet_t1_t999";
        try (SafetensorsFile cf = Fixtures.open(FOLDER + "/cases/" + id + ".safetensors");
             InferenceMode g = new InferenceMode()) {
            UNetModel unet = model.unet();
            Tensor eps = unet.forward(Tensors.readFloat(cf, "x"), Tensors.readFloat(cf, "timesteps"),
                    Conditioning.crossAttn(Tensors.readFloat(cf, "context")).withVector(Tensors.readFloat(cf, "y")));
            assertClose(Tensors.read(cf, "eps"), eps, tol(id, "eps"), "eps");
        }
    }

    @Test
    void vaeDecodeMatchesSgm() {
        String id = "vae_decode";
        try (SafetensorsFile cf = Fixtures.open(FOLDER + "/cases/" + id + ".safetensors");
             InferenceMode g = new InferenceMode()) {
            AutoencoderKL vae = model.vae();
            assertClose(Tensors.read(cf, "decoded"), vae.decode(Tensors.readFloat(cf, "z")), tol(id, "decoded"),
                    "decoded");
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"seeded_euler_64x64", "seeded_dpmpp2m_karras_w64_h96",
        "seeded_euler_a_b2_w96_h64"})
    void seededRunsReproduceTheReferenceLatentsAndImages(String id) {
        var p = Fixtures.caseOf(FOLDER, id).path("params");
        dev.ldm4j.pipeline.GenerationRequest r = new dev.ldm4j.pipeline.GenerationRequest(p.path("prompt").asText(),
                p.path("negative_prompt").asText(), p.path("width").asInt(), p.path("height").asInt(),
                p.path("steps").asInt(), p.path("cfg_scale").asDouble(), p.path("sampler").asText(),
                p.path("scheduler").asText(), 0, p.path("seed").asLong(), p.path("batch_size").asInt(), 0);
        try (SafetensorsFile cf = Fixtures.open(FOLDER + "/cases/" + id + ".safetensors");
             dev.ldm4j.pipeline.GenerationResult result = new dev.ldm4j.pipeline.Generator(model).generate(r,
                     dev.ldm4j.sampling.StepListener.NONE)) {
            assertClose(Tensors.read(cf, "final_latent"), result.latents(), tol(id, "final_latent"), "final_latent");
            assertClose(Tensors.read(cf, "image"), result.images(), tol(id, "image"), "image");
        }
    }
    /**
     * sgm's own sampler (EulerEDMSampler, LegacyDDPMDiscretization, VanillaCFG) end to end. It differs from the
     * k-diffusion convention of the seeded runs in three ways, all done here as sgm does them: the noise levels
     * are those of integer timesteps (leading spacing 999, 874, ..., 124), the start is x_T * sqrt(1 +
     * sigma0^2), and the UNet sees the integer timestep of the table sigma nearest to the step's sigma.
     */
    @Test
    void sgmEulerEdmRunMatchesSgm() {
        String id = "euler_cfg";
        var p = Fixtures.caseOf(FOLDER, id).path("params");
        Conditioner.Sizes sizes = sizesOf(p);
        var timesteps = p.path("discretization_timesteps");
        dev.ldm4j.sampling.NoiseSchedule schedule = model.schedule();
        float[] sigmas = new float[timesteps.size() + 1];
        for (int i = 0; i < timesteps.size(); i++) {
            sigmas[i] = schedule.sigma(timesteps.get(i).asInt());
        }
        try (SafetensorsFile cf = Fixtures.open(FOLDER + "/cases/" + id + ".safetensors");
             InferenceMode g = new InferenceMode()) {
            assertClose(Tensors.read(cf, "sigmas"), Tensors.fromFloats(sigmas, sigmas.length), tol(id, "sigmas"), "sigmas");
            Conditioning c = model.conditioner().condition(List.of(p.path("prompt").asText()),
                    new Conditioner.Inputs(0, null, 64, 64, false, sizes));
            Conditioning u = model.conditioner().condition(List.of(p.path("negative_prompt").asText()),
                    new Conditioner.Inputs(0, null, 64, 64, true, sizes));
            Conditioning both = Conditioning.stack(u, c);
            UNetModel unet = model.unet();
            float[] table = schedule.sigmas();
            // sgm's DiscreteDenoiser: the sigma snapped to the table, its index as the timestep
            dev.ldm4j.sampling.ModelFn snapped = (x, t) -> {
                float tf = t.select(0, 0).item_float();
                int nearest = nearestIndex(table, schedule.sigmaAt(tf));
                float[] ts = new float[(int) t.size(0)];
                java.util.Arrays.fill(ts, nearest);
                return unet.forward(x, Tensors.fromFloats(ts, ts.length), both);
            };
            dev.ldm4j.sampling.Denoiser denoiser = new dev.ldm4j.sampling.Denoiser(
                    dev.ldm4j.sampling.Guidance.cfg(snapped, p.path("guidance_scale").asDouble()),
                    model.prediction(), schedule);
            Tensor x = Tensors.readFloat(cf, "x_T").mul(Ops.s(Math.sqrt(1.0 + (double) sigmas[0] * sigmas[0])));
            java.util.List<float[]> starts = new java.util.ArrayList<>();
            dev.ldm4j.sampling.StepListener record = new dev.ldm4j.sampling.StepListener() {
                @Override
                public Tensor beforeStep(int index, Tensor latent) {
                    starts.add(Tensors.toFloats(latent));
                    return latent;
                }
            };
            Tensor out = dev.ldm4j.sampling.Samplers.byName("euler").sample(denoiser,
                    new dev.ldm4j.sampling.Sigmas(sigmas), x, new dev.ldm4j.sampling.SeededNoise(0), record);
            assertClose(Tensors.read(cf, "x_steps"), Ops.cat(0, starts.stream().map(l -> Tensors.fromFloats(l, Tensors.shape(x)))
                    .toArray(Tensor[]::new)).unsqueeze(1), tol(id, "x_steps"), "x_steps");
            assertClose(Tensors.read(cf, "final_latent"), out, tol(id, "final_latent"), "final_latent");
            assertClose(Tensors.read(cf, "image"), model.decode(out, false), tol(id, "image"), "image");
        }
    }

    private static int nearestIndex(float[] table, float sigma) {
        int best = 0;
        for (int i = 1; i < table.length; i++) {
            if (Math.abs(table[i] - sigma) < Math.abs(table[best] - sigma)) {
                best = i;
            }
        }
        return best;
    }
}
