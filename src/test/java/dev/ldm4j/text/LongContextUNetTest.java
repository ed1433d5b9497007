package dev.ldm4j.text;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.Fixtures;
import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.nn.CheckpointSource;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Weights;
import dev.ldm4j.unet.Conditioning;
import dev.ldm4j.unet.UNetConfig;
import dev.ldm4j.unet.UNetModel;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** The UNet's cross-attention takes the 77 * k positions of a long prompt. */
@org.junit.jupiter.api.extension.ExtendWith(dev.ldm4j.BothGradModes.class)
@org.junit.jupiter.api.Tag("golden")
class LongContextUNetTest {
    private static UNetModel sd1TinyUNet(SafetensorsFile ckpt) {
        UNetConfig config = new UNetConfig(4, 4, 32, new int[] {1, 2}, 2, new int[] {1, 2, 2}, 2, -1, 1, 32, false,
                false, null, 0);
        return new UNetModel(Weights.of(new CheckpointSource(ckpt), "model.diffusion_model."), config);
    }

    @Test
    void contextOf154PositionsWorks() {
        String id = "unet_t500";
        try (SafetensorsFile ckpt = Fixtures.open("sd1-tiny/model.safetensors");
             SafetensorsFile cf = Fixtures.open("sd1-tiny/cases/" + id + ".safetensors");
             SafetensorsFile lw = Fixtures.open("prompts/cases/long_weighted.safetensors")) {
            UNetModel unet = sd1TinyUNet(ckpt);
            Tensor x = Tensors.readFloat(cf, "x");
            Tensor t = Tensors.readFloat(cf, "timesteps");
            Tensor context = Tensors.readFloat(cf, "context");
            // attending over every key twice leaves the softmax average unchanged: the golden eps again
            Tensor doubled = Ops.cat(1, context, context);
            assertArrayEquals(new long[] {2, 154, 32}, Tensors.shape(doubled));
            assertClose(Tensors.read(cf, "eps"), unet.forward(x, t, Conditioning.crossAttn(doubled)),
                    Fixtures.tolerance("sd1-tiny", id, "eps"), "eps with the context repeated to 154 positions");

            Tensor cond = Tensors.readFloat(lw, "cond").expand(2, 154, 32);
            Tensor out = unet.forward(x, t, Conditioning.crossAttn(cond));
            assertArrayEquals(Tensors.shape(x), Tensors.shape(out));
            for (float v : Tensors.toFloats(out)) {
                assertTrue(Float.isFinite(v));
            }
        }
    }
}
