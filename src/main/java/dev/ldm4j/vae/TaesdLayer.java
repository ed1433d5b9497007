package dev.ldm4j.vae;

import org.bytedeco.pytorch.Tensor;

/** One entry of a TAESD {@code nn.Sequential}; its index in the sequence is its checkpoint key prefix. */
@FunctionalInterface
interface TaesdLayer {
    Tensor forward(Tensor x);
}
