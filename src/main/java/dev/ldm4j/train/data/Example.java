package dev.ldm4j.train.data;

import org.bytedeco.pytorch.Tensor;

/**
 * One training example: its name (the image's path relative to the dataset folder, '/'-separated), its
 * caption, and the image as a float32 tensor [3, N, N] in [-1, 1] (the range the autoencoder is fed).
 */
public record Example(String name, String caption, Tensor image) {}
