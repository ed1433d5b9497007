/**
 * Noise schedules, noise-level schedulers and samplers. The samplers see the model only as a
 * {@link dev.ldm4j.sampling.ModelFn} (raw eps or v output for latents at timesteps), wrapped in a
 * {@link dev.ldm4j.sampling.Denoiser} that knows the prediction type and the training schedule.
 *
 * <pre>{@code
 * NoiseSchedule schedule = NoiseSchedule.fromAlphasCumprod(checkpointAlphasCumprod);
 * ModelFn model = Guidance.cfg((x, t) -> unet.forward(x, t, uncondThenCond), cfgScale);
 * Denoiser denoiser = new Denoiser(model, Prediction.EPS, schedule);
 * Sampler sampler = Samplers.byName("dpm++2m");
 * Plan plan = sampler.plan(schedule, Scheduler.byName("karras"), steps);
 * try (SeededNoise noise = new SeededNoise(seed)) {
 *     Tensor xT = noise.randn(batch, 4, height / 8, width / 8);
 *     Tensor z0 = sampler.sample(denoiser, plan, plan.initialLatent(xT), noise, listener);
 * }
 * }</pre>
 *
 * <p>Reproducibility contract: every random number comes from the {@code SeededNoise} passed in, in the order
 * the reference sampler draws it, including draws the reference makes and discards (CompVis DDIM / PLMS at
 * eta 0, k-diffusion Euler / Heun without churn). Per 10-step run after x_T: ddim 10, plms 11, ddpm 9,
 * euler 10, euler_a 9, heun 10, dpm++2m 0 latent-shaped draws.
 *
 * <p>Memory: each step runs in its own {@code PointerScope}; tensors the model function or a listener creates
 * during a step are released when it ends. The result of {@code sample} belongs to the caller's scope.
 */
package dev.ldm4j.sampling;
