package dev.ldm4j.unet;

import org.bytedeco.pytorch.Tensor;

/** One entry of a TimestepEmbedSequential: a layer that may use the time embedding and the context. */
interface UNetLayer {
    Tensor forward(Tensor h, Tensor emb, Tensor context);
}
