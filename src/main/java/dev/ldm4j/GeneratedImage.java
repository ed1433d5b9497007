package dev.ldm4j;

import java.awt.image.BufferedImage;

/**
 * One generated picture.
 *
 * @param image      8-bit sRGB
 * @param parameters the AUTOMATIC1111 "parameters" text (prompt, steps, sampler, seed, size, model, ...), as
 *                   web UIs and image viewers read it from a PNG's text chunk
 * @param seed       the seed the picture came from (the drawn one when the request asked for a random seed)
 */
public record GeneratedImage(BufferedImage image, String parameters, long seed) {}
