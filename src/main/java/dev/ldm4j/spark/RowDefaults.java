package dev.ldm4j.spark;

import java.io.Serializable;

/**
 * The values a row's missing columns take: {@code ldm4j generate}'s defaults (or the batch command's flags), so
 * that a row holding only a prompt makes the image {@code ldm4j generate -p PROMPT} would. A row without a seed
 * gets one derived from {@code seed} and its id ({@link RowSeeds}).
 *
 * @param width        image width; the model config's recommended size unless given
 * @param latentFactor the model's VAE factor: width and height must be multiples of it
 */
public record RowDefaults(String negativePrompt, int steps, double cfgScale, String sampler, String scheduler,
                          int width, int height, long seed, int latentFactor) implements Serializable {}
