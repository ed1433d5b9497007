/**
 * Latent diffusion training ({@code ldm4j train}), with the model classes inference uses.
 *
 * <ul>
 *   <li>{@link dev.ldm4j.train.LatentDiffusion}: UNet, text encoder and autoencoder built from a parameter
 *       source, from scratch ({@code fromScratch}) or from a single-file checkpoint ({@code fromCheckpoint});
 *       knows which parameters train.</li>
 *   <li>{@link dev.ldm4j.train.DiffusionTrainer}: one step at a time (objective, AdamW, warmup, clipping, EMA),
 *       all randomness from one seeded torch CPU generator.</li>
 *   <li>{@link dev.ldm4j.train.TrainingRun}: the loop over a {@link dev.ldm4j.train.TrainingData}, checkpoints
 *       ({@link dev.ldm4j.train.SdCheckpoint} exports, {@link dev.ldm4j.train.TrainingState} resumes) and the
 *       {@link dev.ldm4j.train.TrainListener}s that watch it ({@link dev.ldm4j.train.LossCsv}).</li>
 * </ul>
 *
 * <p>Training never runs under {@code InferenceMode}. Parameters, moments and EMA are float32; each step runs
 * in its own {@code PointerScope}, and what outlives it is retained.
 */
package dev.ldm4j.train;
