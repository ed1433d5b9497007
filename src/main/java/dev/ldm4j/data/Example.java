package dev.ldm4j.data;

import org.bytedeco.pytorch.Tensor;

/**
 * One training example: its name (for a dataset, the image's path relative to the folder, '/'-separated; it
 * also keys the image's pixels in the latent cache), its caption ("" for none), and the image as a float32
 * tensor [3, N, N] in [-1, 1] (the range the autoencoder is fed).
 */
public record Example(String name, String caption, Tensor image) {}
