package dev.ldm4j.model;

import dev.ldm4j.io.SafetensorsFile;
import dev.ldm4j.unet.UNetConfig;
import dev.ldm4j.vae.VaeConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What SD 1.x and 2.x share: the CompVis single-file layout with one text tower under {@code cond_stage_model.},
 * and detection the way AUTOMATIC1111 and stable-diffusion.cpp do it. Widths, level counts and attention
 * placement are read from tensor shapes; head counts, which shapes cannot show, are those of the released
 * models. Whether an SD 2.x UNet predicts v is not in the file: the loader settles it by running the UNet once
 * (the A1111 rule).
 */
abstract class CompVisArchitecture implements Architecture {
    /** Heads per transformer, or -1 where {@link #numHeadChannels()} fixes the head width instead. */
    abstract int numHeads();

    abstract int numHeadChannels();

    @Override
    public ModelConfig detect(SafetensorsFile f) {
        UNetConfig unet = detectUNet(f);
        VaeConfig vae = VaeConfig.detect(f, VAE, VaeConfig.SD_SCALE_FACTOR);
        if (this == Architecture.SD2 && unet.inChannels() == vae.embedDim() + 3 && f.has(UNET + "label_emb.weight")) {
            return upscaler(f, unet);
        }
        ModelConfig c = new ModelConfig(this, false, unet, defaultTextLayer(), Map.of(), vae, 0.00085, 0.012, 1000);
        if (unet.inChannels() != vae.embedDim() && !c.inpainting()) {
            // depth-to-image (5), the x4 upscaler (7), instruct-pix2pix (8) need inputs ldm4j does not build
            throw new UnsupportedModelException(f.path() + ": the UNet takes " + unet.inChannels()
                    + " input channels; supported are " + vae.embedDim() + " (text-to-image) and "
                    + c.inpaintingChannels() + " (inpainting)");
        }
        return c;
    }

    /**
     * Stability's x4 upscaler from its shapes, with what shapes cannot tell taken from x4-upscaling.yaml: 8 heads,
     * v-prediction, its linear 0.0001 .. 0.02 schedule, scale factor 0.08333. Where attn1 reads the text context
     * (its to_k has context_dim inputs) that level's self-attention is disabled; where the shapes cannot tell (no
     * attention at the level, or as many channels as context_dim) the released pattern holds: disabled on every
     * level but the last.
     */
    private ModelConfig upscaler(SafetensorsFile f, UNetConfig u) {
        int levels = u.channelMult().length;
        boolean[] disabled = new boolean[levels];
        int ds = 1;
        int block = 1;
        for (int level = 0; level < levels; level++, ds *= 2) {
            String attn1 = UNET + "input_blocks." + block + ".1.transformer_blocks.0.attn1.to_k.weight";
            boolean tells = f.has(attn1) && u.contextDim() != u.modelChannels() * u.channelMult()[level];
            disabled[level] = tells ? shape(f, attn1)[1] == u.contextDim() : level < levels - 1;
            block += u.numResBlocks() + 1;
        }
        int classes = (int) shape(f, UNET + "label_emb.weight")[0];
        UNetConfig unet = new UNetConfig(u.inChannels(), u.outChannels(), u.modelChannels(), u.attentionResolutions(),
                u.numResBlocks(), u.channelMult(), 8, -1, u.transformerDepth(), u.contextDim(),
                u.useLinearInTransformer(), false, disabled, classes);
        VaeConfig vae = VaeConfig.detect(f, VAE, 0.08333);
        return new ModelConfig(this, true, unet, defaultTextLayer(), Map.of(), vae, 0.0001, 0.02, 1000);
    }

    private static long[] shape(SafetensorsFile f, String key) {
        if (!f.has(key)) {
            throw new UnsupportedModelException(f.path() + ": missing key '" + key + "'");
        }
        return f.info(key).shape();
    }

    private static int countIndexed(SafetensorsFile f, String prefix) {
        int n = 0;
        while (true) {
            String p = prefix + n + ".";
            if (f.keys().stream().noneMatch(k -> k.startsWith(p))) {
                return n;
            }
            n++;
        }
    }

    UNetConfig detectUNet(SafetensorsFile f) {
        long[] convIn = shape(f, UNET + "input_blocks.0.0.weight");
        int mc = (int) convIn[0];
        int in = (int) convIn[1];
        int out = (int) shape(f, UNET + "out.2.weight")[0];
        int blocks = countIndexed(f, UNET + "input_blocks.");
        List<Integer> mult = new ArrayList<>();
        List<Integer> attn = new ArrayList<>();
        int resPerLevel = -1;
        int run = 0;
        int ds = 1;
        List<Integer> depths = new ArrayList<>();
        int contextDim = -1;
        boolean linear = false;
        for (int i = 1; i < blocks; i++) {
            String b = UNET + "input_blocks." + i + ".";
            if (f.has(b + "0.op.weight")) {
                resPerLevel = resPerLevel < 0 ? run : resPerLevel;
                run = 0;
                ds *= 2;
                continue;
            }
            if (run == 0) {
                mult.add((int) shape(f, b + "0.out_layers.3.weight")[0] / mc);
                depths.add(1); // a level without transformers: its depth is never used
            }
            run++;
            if (f.has(b + "1.norm.weight")) {
                if (!attn.contains(ds)) {
                    attn.add(ds);
                }
                depths.set(depths.size() - 1, countIndexed(f, b + "1.transformer_blocks."));
                contextDim = (int) shape(f, b + "1.transformer_blocks.0.attn2.to_k.weight")[1];
                linear = shape(f, b + "1.proj_in.weight").length == 2;
            }
        }
        if (resPerLevel < 0) {
            resPerLevel = run;
        }
        if (contextDim < 0) {
            contextDim = (int) shape(f, UNET + "middle_block.1.transformer_blocks.0.attn2.to_k.weight")[1];
            linear = shape(f, UNET + "middle_block.1.proj_in.weight").length == 2;
        }
        int[] multArr = mult.stream().mapToInt(Integer::intValue).toArray();
        int[] attnArr = attn.stream().mapToInt(Integer::intValue).toArray();
        if (!attn.contains(ds)) {
            // the middle block takes the last level's depth: without transformers there, read it off the middle
            depths.set(depths.size() - 1, countIndexed(f, UNET + "middle_block.1.transformer_blocks."));
        }
        int[] depth = depths.stream().distinct().count() == 1 ? new int[] {depths.get(0)}
                : depths.stream().mapToInt(Integer::intValue).toArray();
        return new UNetConfig(in, out, mc, attnArr, resPerLevel, multArr, numHeads(), numHeadChannels(), depth,
                contextDim, linear, false, null, 0);
    }

    @Override
    public String toString() {
        return name();
    }
}
