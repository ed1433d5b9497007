package dev.ldm4j.pipeline;

import static dev.ldm4j.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.unet.Conditioning;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Tiles cover the latent and their blend is a weighted average: a model that acts on each pixel alone (here
 * 2x + the sum of the concatenated channels) gives, tiled, exactly what it gives untiled, whatever the tile,
 * overlap and size.
 */
class LatentTilesTest {
    @Test
    void aPixelwiseModelIsUnchangedByTiling() {
        GuidedModel.ConditionedModel pointwise = (x, t, c) -> x.mul(Ops.s(2)).add(c.concat().sum(new long[] {1}, true,
                new org.bytedeco.pytorch.ScalarTypeOptional()));
        Random r = new Random(3);
        try (PointerScope scope = new PointerScope()) {
            for (int[] size : new int[][] {{70, 50}, {33, 129}, {16, 16}}) {
                Tensor x = randn(r, 2, 4, size[0], size[1]);
                Conditioning c = Conditioning.crossAttn(randn(r, 2, 3, 8)).withConcat(randn(r, 2, 3, size[0], size[1]));
                Tensor t = Tensors.fromFloats(new float[] {1, 1}, 2);
                Tensor whole = pointwise.apply(x, t, c);
                for (int[] tiling : new int[][] {{32, 8}, {24, 0}, {40, 39}}) {
                    Tensor tiled = LatentTiles.tiled(pointwise, tiling[0], tiling[1]).apply(x, t, c);
                    assertClose(whole, tiled, 1e-4, size[0] + "x" + size[1] + " in " + tiling[0] + "/" + tiling[1]);
                }
            }
        }
    }

    /**
     * What the model makes for one tile (a UNet keeps its skip activations in the caller's scope) is freed when
     * the tile is done, not when the sampler's step ends: at 512 px the x4 upscaler runs 25 tiles a step, and
     * keeping every tile's activations to the step's end took gigabytes (docs/benchmarks.md).
     */
    @Test
    void eachTilesIntermediatesAreFreedBeforeTheNextTileRuns() {
        List<Tensor> made = new java.util.ArrayList<>();
        List<Integer> aliveAtStart = new java.util.ArrayList<>();
        GuidedModel.ConditionedModel keeping = (x, t, c) -> {
            aliveAtStart.add((int) made.stream().filter(m -> !m.isNull()).count());
            Tensor skip = x.mul(Ops.s(3)); // left in the caller's scope, as a UNet's block outputs are
            made.add(skip);
            return skip.sub(x);
        };
        Random r = new Random(5);
        try (PointerScope scope = new PointerScope()) {
            Tensor x = randn(r, 1, 4, 40, 40);
            Conditioning c = Conditioning.crossAttn(randn(r, 1, 3, 8));
            Tensor t = Tensors.fromFloats(new float[] {1}, 1);
            Tensor tiled = LatentTiles.tiled(keeping, 16, 4).apply(x, t, c);
            assertEquals(9, made.size(), "3 x 3 tiles");
            assertEquals(java.util.Collections.nCopies(9, 0), aliveAtStart, "no earlier tile's tensors alive");
            assertTrue(made.stream().allMatch(m -> m.isNull()), "every tile's tensors freed on return");
            assertClose(x.mul(Ops.s(2)), tiled, 1e-5, "the blend is still 2x");
        }
    }

    @Test
    void startsCoverTheSideFlushWithItsEnd() {
        assertEquals(List.of(0L), LatentTiles.starts(100, 128, 32));
        assertEquals(List.of(0L, 96L, 192L, 272L), LatentTiles.starts(400, 128, 32));
        assertEquals(List.of(0L, 2L), LatentTiles.starts(130, 128, 32));
    }

    private static Tensor randn(Random r, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return Tensors.fromFloats(v, shape);
    }
}
