package dev.ldm4j.vae;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Torch;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

@org.junit.jupiter.api.Tag("golden")
class TiledDecodeTest {
    /** A decoder without context: each latent pixel becomes an 8 x 8 block. Tiling must not change it at all. */
    private static final UnaryOperator<Tensor> LOCAL = z -> torch.upsample_nearest2d(z.narrow(1, 0, 3).tanh(),
            new long[] {z.size(2) * 8, z.size(3) * 8});

    @Test
    void aLocalDecoderGivesTheSameImageTiledOrNot() {
        Torch.load();
        Tensor z = torch.randn(2, 4, 37, 53);
        Tensor whole = LOCAL.apply(z);
        Tensor tiled = TiledDecode.decode(LOCAL, z, 8, 16, 4);
        assertClose(whole, tiled, 1e-6, "tiled local decode");
    }

    @Test
    void aLatentThatFitsOneTileIsDecodedInOneCall() {
        Torch.load();
        Tensor z = torch.randn(1, 4, 16, 12);
        int[] calls = {0};
        Tensor out = TiledDecode.decode(t -> {
            calls[0]++;
            return LOCAL.apply(t);
        }, z, 8, 16, 4);
        assertEquals(1, calls[0]);
        assertClose(LOCAL.apply(z), out, 0.0, "single tile");
    }

    @Test
    void tilesCoverTheLatentWithAtLeastTheOverlap() {
        assertArrayEquals(new long[] {0}, TiledDecode.starts(10, 16, 4));
        assertArrayEquals(new long[] {0, 12, 21}, TiledDecode.starts(37, 16, 4));
        for (long size = 33; size < 200; size++) {
            long[] s = TiledDecode.starts(size, 32, 8);
            assertEquals(0, s[0]);
            assertEquals(size - 32, s[s.length - 1]);
            for (int i = 1; i < s.length; i++) {
                assertTrue(s[i - 1] + 32 - s[i] >= 8, "overlap at " + size);
            }
        }
    }

    @Test
    void rampsNeverReachZero() {
        Torch.load();
        float[] r = Tensors.toFloats(TiledDecode.ramp(10, true, true, 4));
        assertEquals(0.2f, r[0], 1e-6);
        assertEquals(1f, r[5], 1e-6);
        assertEquals(0.2f, r[9], 1e-6);
    }
}
