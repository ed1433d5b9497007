package dev.ldm4j.unet;

import dev.ldm4j.nn.BlockScope;
import dev.ldm4j.nn.ComputeDevice;
import dev.ldm4j.nn.Conv2d;
import dev.ldm4j.nn.Embedding;
import dev.ldm4j.nn.GroupNorm;
import dev.ldm4j.nn.Linear;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.nn.Weights;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;

/**
 * openaimodel.UNetModel with spatial transformers, laid out like its checkpoint keys under
 * {@code model.diffusion_model.}: time_embed, (label_emb), input_blocks, middle_block, output_blocks, out.
 */
public final class UNetModel {
    private final UNetConfig config;
    private final Linear timeEmbed0;
    private final Linear timeEmbed2;
    private final Embedding labelEmb;
    private final Linear admEmb0;
    private final Linear admEmb2;
    private final List<UNetLayer[]> inputBlocks = new ArrayList<>();
    private final UNetLayer[] middleBlock;
    private final List<UNetLayer[]> outputBlocks = new ArrayList<>();
    private final GroupNorm outNorm;
    private final Conv2d outConv;
    private final ScalarType dtype;
    private final ComputeDevice device;

    public UNetModel(Weights w, UNetConfig c) {
        this.config = c;
        int mc = c.modelChannels();
        int ted = c.timeEmbedDim();
        timeEmbed0 = new Linear(w.sub("time_embed").sub(0), mc, ted);
        timeEmbed2 = new Linear(w.sub("time_embed").sub(2), ted, ted);
        labelEmb = c.numClasses() > 0 ? new Embedding(w.sub("label_emb"), c.numClasses(), ted) : null;
        // label_emb.0 is a Sequential(Linear, SiLU, Linear) inside a Sequential: keys label_emb.0.0, label_emb.0.2
        admEmb0 = c.admInChannels() > 0 ? new Linear(w.sub("label_emb").sub(0).sub(0), c.admInChannels(), ted) : null;
        admEmb2 = c.admInChannels() > 0 ? new Linear(w.sub("label_emb").sub(0).sub(2), ted, ted) : null;

        Weights in = w.sub("input_blocks");
        Conv2d convIn = new Conv2d(in.sub(0).sub(0), c.inChannels(), mc, 3);
        inputBlocks.add(new UNetLayer[] {(h, e, ctx) -> convIn.forward(h)});
        List<Integer> skipChannels = new ArrayList<>();
        skipChannels.add(mc);
        int ch = mc;
        int ds = 1;
        int[] mult = c.channelMult();
        for (int level = 0; level < mult.length; level++) {
            for (int r = 0; r < c.numResBlocks(); r++) {
                Weights b = in.sub(inputBlocks.size());
                List<UNetLayer> layers = new ArrayList<>();
                layers.add(new ResBlock(b.sub(0), ch, ted, mult[level] * mc));
                ch = mult[level] * mc;
                if (c.hasAttention(ds)) {
                    layers.add(transformer(b.sub(1), ch, level));
                }
                inputBlocks.add(layers.toArray(UNetLayer[]::new));
                skipChannels.add(ch);
            }
            if (level != mult.length - 1) {
                inputBlocks.add(new UNetLayer[] {new Downsample(in.sub(inputBlocks.size()).sub(0), ch)});
                skipChannels.add(ch);
                ds *= 2;
            }
        }

        Weights mid = w.sub("middle_block");
        middleBlock = new UNetLayer[] {
            new ResBlock(mid.sub(0), ch, ted, ch),
            transformer(mid.sub(1), ch, mult.length - 1),
            new ResBlock(mid.sub(2), ch, ted, ch)
        };

        Weights out = w.sub("output_blocks");
        for (int level = mult.length - 1; level >= 0; level--) {
            for (int i = 0; i <= c.numResBlocks(); i++) {
                Weights b = out.sub(outputBlocks.size());
                int skipCh = skipChannels.remove(skipChannels.size() - 1);
                List<UNetLayer> layers = new ArrayList<>();
                layers.add(new ResBlock(b.sub(0), ch + skipCh, ted, mc * mult[level]));
                ch = mc * mult[level];
                if (c.hasAttention(ds)) {
                    layers.add(transformer(b.sub(1), ch, level));
                }
                if (level > 0 && i == c.numResBlocks()) {
                    layers.add(new Upsample(b.sub(layers.size()), ch));
                    ds /= 2;
                }
                outputBlocks.add(layers.toArray(UNetLayer[]::new));
            }
        }
        outNorm = new GroupNorm(w.sub("out").sub(0), 32, ch, 1e-5);
        outConv = new Conv2d(w.sub("out").sub(2), mc, c.outChannels(), 3);
        dtype = Tensors.scalarType(timeEmbed0.weight());
        device = ComputeDevice.of(timeEmbed0.weight());
    }

    private SpatialTransformer transformer(Weights w, int ch, int level) {
        return new SpatialTransformer(w, ch, config.heads(ch), config.headDim(ch), config.transformerDepth(level),
                config.contextDim(), config.useLinearInTransformer(), config.selfAttentionDisabled(level));
    }

    public UNetConfig config() {
        return config;
    }

    /**
     * The model output (eps or v, as trained) for latents {@code x [B, C, h, w]} at timesteps {@code t [B]}
     * (float, may be fractional) under conditioning {@code c}: its {@code concat} channels are appended to x,
     * its {@code vector} embedded by {@code label_emb} and added to the time embedding, its {@code crossAttn}
     * attended to. Inputs may be on the CPU whatever the model's device; the output is a float32 CPU tensor.
     */
    public Tensor forward(Tensor x, Tensor t, Conditioning c) {
        Tensor input = c.concat() == null ? x : Ops.cat(1, x, c.concat());
        if (input.size(1) != config.inChannels()) {
            throw new IllegalArgumentException("UNet expects " + config.inChannels() + " input channels, got "
                    + Tensors.shapeString(input) + (c.concat() == null ? "" : " (latent and concat conditioning)"));
        }
        // the embedding is made in float32 on the CPU, where t is, as the reference makes it
        Tensor emb = device.to(timestepEmbedding(t.is_cpu() ? t : t.cpu(), config.modelChannels()), dtype);
        emb = timeEmbed2.forward(Ops.silu(timeEmbed0.forward(emb)));
        if (labelEmb != null || admEmb0 != null) {
            if (c.vector() == null) {
                throw new IllegalArgumentException("this UNet is conditioned on a " + (labelEmb != null
                        ? "class label" : "vector of " + config.admInChannels()) + ": the conditioning has none");
            }
            emb = emb.add(labelEmb != null ? labelEmb.forward(device.to(c.vector(), ScalarType.Long))
                    : admEmb2.forward(Ops.silu(admEmb0.forward(device.to(c.vector(), dtype)))));
        } else if (c.vector() != null) {
            throw new IllegalArgumentException("this UNet has no label_emb for the conditioning's vector");
        }
        Tensor h = device.to(input, dtype);
        Tensor ctx = device.to(c.crossAttn(), dtype);
        Tensor e = emb;
        Deque<Tensor> skips = new ArrayDeque<>();
        for (UNetLayer[] block : inputBlocks) {
            h = run(block, h, e, ctx);
            skips.push(h);
        }
        h = run(middleBlock, h, e, ctx);
        for (UNetLayer[] block : outputBlocks) {
            Tensor in = h;
            Tensor skip = skips.pop();
            Tensor next = skips.peek();
            h = BlockScope.run(() -> outputBlock(block, Ops.cat(1, in, skip), e, ctx, next));
        }
        return ComputeDevice.toCpuFloat(outConv.forward(Ops.silu(outNorm.forward(h))));
    }

    /** One block, its intermediates freed when it returns (a whole forward's would be gigabytes at 512 px). */
    private static Tensor run(UNetLayer[] block, Tensor h, Tensor emb, Tensor context) {
        for (UNetLayer layer : block) {
            Tensor in = h;
            h = BlockScope.run(() -> layer.forward(in, emb, context));
        }
        return h;
    }

    /** An output block; its Upsample, if any, goes to the size of the skip connection it meets next. */
    private static Tensor outputBlock(UNetLayer[] block, Tensor h, Tensor emb, Tensor context, Tensor nextSkip) {
        int n = block.length;
        if (!(block[n - 1] instanceof Upsample up)) {
            return run(block, h, emb, context);
        }
        for (int i = 0; i < n - 1; i++) {
            Tensor in = h;
            UNetLayer layer = block[i];
            h = BlockScope.run(() -> layer.forward(in, emb, context));
        }
        return up.forward(h, nextSkip.size(2), nextSkip.size(3));
    }

    /**
     * Sinusoidal embedding [cos(t f), sin(t f)], f_k = exp(-ln(10000) k / half), in float32 and in the
     * reference's order of operations: at t = 999 the argument's rounding alone is ~6e-5.
     */
    public static Tensor timestepEmbedding(Tensor t, int dim) {
        int half = dim / 2;
        Tensor freqs = torch.arange(new Scalar(0), new Scalar(half), Tensors.options(ScalarType.Float))
                .mul(new Scalar(-Math.log(10000.0))).div(new Scalar((double) half)).exp();
        Tensor args = t.to(ScalarType.Float).unsqueeze(1).mul(freqs.unsqueeze(0));
        Tensor emb = Ops.cat(-1, args.cos(), args.sin());
        if (dim % 2 == 1) {
            emb = Ops.cat(-1, emb, torch.zeros(new long[] {t.size(0), 1}, Tensors.options(ScalarType.Float)));
        }
        return emb;
    }
}
