package dev.ldm4j.unet;

import static dev.ldm4j.Fixtures.assertClose;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@org.junit.jupiter.api.extension.ExtendWith(dev.ldm4j.BothGradModes.class)
@org.junit.jupiter.api.Tag("golden")
class UNetModelTest {
    static UNetConfig sd1Tiny() {
        return new UNetConfig(4, 4, 32, new int[] {1, 2}, 2, new int[] {1, 2, 2}, 2, -1, 1, 32, false, false,
                null, 0);
    }

    static UNetConfig sd2Tiny() {
        return new UNetConfig(4, 4, 32, new int[] {1, 2}, 2, new int[] {1, 2, 2}, -1, 16, 1, 32, true, false,
                null, 0);
    }

    @ParameterizedTest
    @CsvSource({
        "sd1-tiny, unet_t1_t999, eps",
        "sd1-tiny, unet_t500, eps",
        "sd2-tiny, unet_t1_t999, model_output_v",
        "sd2-tiny, unet_t500, model_output_v"
    })
    void matchesReference(String folder, String id, String output) {
        UNetConfig config = folder.equals("sd1-tiny") ? sd1Tiny() : sd2Tiny();
        try (SafetensorsFile ckpt = Fixtures.open(folder + "/model.safetensors");
             SafetensorsFile cf = Fixtures.open(folder + "/cases/" + id + ".safetensors")) {
            UNetModel unet = new UNetModel(Weights.of(new CheckpointSource(ckpt), "model.diffusion_model."), config);
            Tensor out = unet.forward(Tensors.readFloat(cf, "x"), Tensors.readFloat(cf, "timesteps"),
                    Conditioning.crossAttn(Tensors.readFloat(cf, "context")));
            assertClose(Tensors.read(cf, output), out, Fixtures.tolerance(folder, id, output), id);
        }
    }
}
