package dev.ldm4j.model;

import dev.ldm4j.io.BadRequestException;
import dev.ldm4j.nn.ComputeDevice;
import dev.ldm4j.nn.Ops;
import dev.ldm4j.nn.Tensors;
import dev.ldm4j.text.ClipTokenizer;
import dev.ldm4j.text.PromptChunker;
import dev.ldm4j.text.SdxlTextEncoders;
import dev.ldm4j.text.TextualInversions;
import dev.ldm4j.text.WeightedPromptEncoder;
import dev.ldm4j.unet.Conditioning;
import dev.ldm4j.unet.UNetModel;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * SDXL's conditioning (sgm GeneralConditioner): cross-attention context from both text towers (in
 * AUTOMATIC1111's prompt syntax and 75-token chunks), and the vector {@code [pooled text, emb(original h),
 * emb(original w), emb(crop top), emb(crop left), emb(target h), emb(target w)]}, each size a sinusoidal
 * embedding of {@code sizeDim} numbers ({@link Conditioner.Sizes}). An empty negative prompt gives zeros for everything the text towers
 * make, the size embeddings stay (sgm's {@code force_uc_zero_embeddings=['txt']}).
 *
 * <p>The refiner ({@code sd_xl_refiner.yaml}) conditions on OpenCLIP alone, and its vector is {@code [pooled,
 * emb(original h), emb(original w), emb(crop top), emb(crop left), emb(aesthetic score)]}: 6.0 for the prompt,
 * 2.5 for the negative prompt (sgm's demo and diffusers' defaults). An empty negative prompt is encoded like
 * any other, not zeroed, as sgm's demo runs the refiner ({@code is_legacy}).
 */
final class SdxlConditioner implements Conditioner {
    private final SdxlTextEncoders text;
    private final TextConditioner context;
    private final WeightedPromptEncoder prompts;
    private final ComputeDevice device;
    private final int sizeDim;
    private final boolean refiner;

    /** The aesthetic scores the refiner is conditioned on: sgm's and diffusers' defaults. */
    static final double AESTHETIC_SCORE = 6.0;
    static final double NEGATIVE_AESTHETIC_SCORE = 2.5;

    SdxlConditioner(SdxlTextEncoders text, ClipTokenizer tokenizer, TextualInversions embeddings,
                    ComputeDevice device, int sizeDim) {
        this.refiner = !text.hasClip();
        this.text = text;
        // ids in CLIPTokenizer's convention; the OpenCLIP tower derives its own padding from them
        PromptChunker chunker = new PromptChunker(tokenizer, ClipTokenizer.Style.SD1, embeddings);
        this.context = new TextConditioner(text, chunker, device);
        this.prompts = new WeightedPromptEncoder(chunker);
        this.device = device;
        this.sizeDim = sizeDim;
    }

    @Override
    public Tensor encodePrompts(List<String> texts, int clipSkip) {
        return context.encodePrompts(texts, clipSkip);
    }

    @Override
    public Conditioning condition(List<String> texts, Inputs in) {
        if (in.concat() != null) {
            throw new BadRequestException("SDXL inpainting models are not supported yet");
        }
        int b = texts.size();
        Tensor context;
        Tensor pooled;
        if (!refiner && in.negative() && texts.stream().allMatch(String::isEmpty)) {
            context = torch.zeros(new long[] {b, ClipTokenizer.CONTEXT_LENGTH, text.contextDim()},
                    Tensors.options(ScalarType.Float));
            pooled = torch.zeros(new long[] {b, text.pooledDim()}, Tensors.options(ScalarType.Float));
        } else {
            context = encodePrompts(texts, in.clipSkip());
            pooled = pooled(texts);
        }
        long[] sizes = in.sizesOrDefault().values();
        double[] numbers = new double[refiner ? 5 : 6];
        for (int i = 0; i < numbers.length; i++) {
            numbers[i] = i < 4 || !refiner ? sizes[i] : in.negative() ? NEGATIVE_AESTHETIC_SCORE : AESTHETIC_SCORE;
        }
        List<Tensor> parts = new ArrayList<>(List.of(pooled));
        for (double v : numbers) {
            float[] values = new float[b];
            java.util.Arrays.fill(values, (float) v);
            parts.add(UNetModel.timestepEmbedding(Tensors.fromFloats(values, b), sizeDim));
        }
        return Conditioning.crossAttn(context).withVector(Ops.cat(1, parts.toArray(Tensor[]::new)));
    }

    /** OpenCLIP's pooled embedding of each prompt's first chunk (unweighted), as AUTOMATIC1111 takes it. */
    private Tensor pooled(List<String> texts) {
        int n = ClipTokenizer.CONTEXT_LENGTH;
        long[] ids = new long[texts.size() * n];
        for (int i = 0; i < texts.size(); i++) {
            System.arraycopy(prompts.chunks(texts.get(i)).chunks().get(0).inputIds(), 0, ids, i * n, n);
        }
        Tensor batch = device.to(Tensors.fromLongs(ids, texts.size(), n), ScalarType.Long);
        return ComputeDevice.toCpuFloat(text.pooled(batch));
    }
}
