package dev.ldm4j.model;

import dev.ldm4j.text.TextEncoder;
import dev.ldm4j.unet.UNetModel;
import dev.ldm4j.vae.AutoencoderKL;

/** The three networks of a latent diffusion model, as an {@link Architecture} assembles them. */
public record Networks(TextEncoder text, UNetModel unet, AutoencoderKL vae) {}
