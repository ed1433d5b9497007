package dev.ldm4j.model;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.unet.Conditioning;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SDXL refiner layout ({@code sd_xl_refiner.yaml}: OpenCLIP alone under {@code conditioner.embedders.0},
 * a {@code label_emb} over pooled text, original size, crop and aesthetic score). No fixture holds a refiner,
 * so this one is made from sdxl-tiny's own tensors: its OpenCLIP tower moved to embedders.0, the UNet's
 * cross-attention keys and values cut to the OpenCLIP part of the context, {@code label_emb}'s first layer cut
 * to 32 + 5 x 24 inputs. What the refiner computes from text is then checked against sgm's outputs for the
 * base (the OpenCLIP slice of the context, the pooled text, the size embeddings); the aesthetic score against
 * the sinusoidal embedding written out here from the fixture README's formula.
 */
@Tag("golden")
public class SdxlRefinerTest {
    private static final String FOLDER = "sdxl-tiny";
    @TempDir
    static Path dir;
    private static LatentDiffusionModel refiner;

    @BeforeAll
    static void makeRefiner() {
        Path file = dir.resolve("refiner.safetensors");
        writeRefiner(Fixtures.path(FOLDER + "/model.safetensors"), file);
        refiner = ModelLoader.load(new ModelLoader.Options(file, null, null, null));
    }

    @AfterAll
    static void close() {
        // null when the fixtures are absent and the class was skipped
        if (refiner != null) {
            refiner.close();
        }
    }

    /** sdxl-tiny as a refiner: see the class comment. */
    public static void writeRefiner(Path base, Path out) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope(); SafetensorsFile f = SafetensorsFile.open(base)) {
            for (String key : f.keys()) {
                Tensor v = Tensors.read(f, key);
                if (key.startsWith("conditioner.embedders.0.")) {
                    continue;
                }
                if (key.startsWith("conditioner.embedders.1.")) {
                    t.put(key.replace("conditioner.embedders.1.", "conditioner.embedders.0."), v);
                } else if (key.matches("model\\.diffusion_model\\..*attn2\\.to_[kv]\\.weight")) {
                    t.put(key, v.narrow(1, 16, 20).contiguous()); // context = CLIP 16 + OpenCLIP 20
                } else if (key.equals("model.diffusion_model.label_emb.0.0.weight")) {
                    t.put(key, v.narrow(1, 0, 32 + 5 * 24).contiguous());
                } else {
                    t.put(key, v);
                }
            }
            Tensors.write(out, t);
        }
        // its config beside it, the refiner's YAML structure: OpenCLIP alone, the aesthetic score, a context_dim
        // per level; the tiny tower's 2 heads of width 10 cannot be read from shapes
        try {
            String yaml = java.nio.file.Files.readString(Fixtures.path(FOLDER + "/config.yaml"));
            int clipStart = yaml.indexOf("        - is_trainable: false\n          input_key: txt\n          target: "
                    + "sgm.modules.encoders.modules.FrozenCLIPEmbedder\n");
            int clipEnd = yaml.indexOf("        - is_trainable: false", clipStart + 10);
            yaml = yaml.substring(0, clipStart) + yaml.substring(clipEnd);
            yaml = yaml.replace("adm_in_channels: 176", "adm_in_channels: 152")
                    .replace("context_dim: 36", "context_dim: [20, 20]")
                    .replace("input_key: target_size_as_tuple", "input_key: aesthetic_score");
            String name = out.getFileName().toString().replaceFirst("\\.safetensors$", ".yaml");
            java.nio.file.Files.writeString(out.resolveSibling(name), yaml);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The fixture README's size embedding: [cos(v f_k), sin(v f_k)], f_k = exp(-ln(10000) k / 12). */
    private static Tensor sinusoid(double v) {
        float[] e = new float[24];
        for (int k = 0; k < 12; k++) {
            double f = Math.exp(-Math.log(10000) * k / 12);
            e[k] = (float) Math.cos(v * f);
            e[12 + k] = (float) Math.sin(v * f);
        }
        return Tensors.fromFloats(e, 1, 24);
    }

    private static double tol(String id, String name) {
        return Fixtures.tolerance(FOLDER, id, name);
    }

    @Test
    void theRefinerLayoutIsDetected() {
        assertEquals("sdxl-refiner", refiner.config().architecture().name(refiner.config()));
        assertEquals(20, refiner.config().unet().contextDim());
        assertEquals(152, refiner.config().unet().admInChannels());
        assertEquals(24, refiner.config().textModelConfig().get("size_embed_dim"));
        assertEquals(java.util.Set.of(), refiner.unusedKeys());
    }

    @Test
    void conditioningMatchesSgmsTowerAndSizes() {
        String id = "conditioner";
        var p = Fixtures.caseOf(FOLDER, id).path("params");
        Conditioner.Sizes sizes = SdxlTest.sizesOf(p);
        try (SafetensorsFile cf = Fixtures.open(FOLDER + "/cases/" + id + ".safetensors");
             SafetensorsFile te = Fixtures.open(FOLDER + "/cases/text_encoders.safetensors");
             InferenceMode g = new InferenceMode()) {
            Conditioning c = refiner.conditioner().condition(List.of(p.path("prompt").asText()),
                    new Conditioner.Inputs(0, null, 64, 64, false, sizes));
            assertClose(Tensors.read(cf, "crossattn").narrow(2, 16, 20), c.crossAttn(), tol(id, "crossattn"), "context");
            Tensor expected = dev.ldm4j.nn.Ops.cat(1, Tensors.read(cf, "vector").narrow(1, 0, 32 + 4 * 24), sinusoid(6.0));
            assertClose(expected, c.vector(), tol(id, "vector"), "vector with aesthetic score 6");
            // the refiner encodes an empty negative prompt (sgm's demo: is_legacy, nothing zeroed)
            Conditioning u = refiner.conditioner().condition(List.of(""),
                    new Conditioner.Inputs(0, null, 64, 64, true, sizes));
            assertClose(Tensors.read(te, "open_clip_penultimate").narrow(0, 1, 1), u.crossAttn(),
                    tol("text_encoders", "open_clip_penultimate"), "empty negative context");
            Tensor uExpected = dev.ldm4j.nn.Ops.cat(1, Tensors.read(te, "open_clip_pooled").narrow(0, 1, 1),
                    Tensors.read(cf, "vector").narrow(1, 32, 4 * 24), sinusoid(2.5));
            assertClose(uExpected, u.vector(), tol(id, "uc_vector"), "negative vector with aesthetic score 2.5");
        }
    }
}
