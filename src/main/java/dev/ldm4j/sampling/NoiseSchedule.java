package dev.ldm4j.sampling;

import java.util.Arrays;

/**
 * The training noise schedule of a latent diffusion model: alphas_cumprod over the DDPM timesteps, and the
 * k-diffusion view of it (a table of noise levels sigma(t) = sqrt((1 - a_t) / a_t)).
 *
 * <p>Precision follows the reference: the linear schedule is built in float64 and stored as float32, and
 * everything downstream (samplers, the sigma table, timestep interpolation) starts from the float32 values.
 * The sigma table and the log-sigma interpolation are evaluated in float32 arithmetic like k-diffusion's
 * CompVisDenoiser, whose fractional timesteps the UNet sees.
 */
public final class NoiseSchedule {
    private final float[] alphasCumprod;
    private final float[] betas;
    private final float[] sigmas;
    private final float[] logSigmas;
    private final AlignYourSteps alignYourSteps;

    private NoiseSchedule(float[] alphasCumprod, float[] betas) {
        this(alphasCumprod, betas, AlignYourSteps.SD1);
    }

    private NoiseSchedule(float[] alphasCumprod, float[] betas, AlignYourSteps alignYourSteps) {
        this.alignYourSteps = java.util.Objects.requireNonNull(alignYourSteps, "alignYourSteps");
        if (alphasCumprod.length < 2) {
            throw new IllegalArgumentException("a noise schedule needs at least 2 timesteps, got " + alphasCumprod.length);
        }
        this.alphasCumprod = alphasCumprod;
        this.betas = betas;
        int n = alphasCumprod.length;
        this.sigmas = new float[n];
        this.logSigmas = new float[n];
        for (int t = 0; t < n; t++) {
            float a = alphasCumprod[t];
            if (!(a > 0f && a <= 1f)) {
                throw new IllegalArgumentException("alphas_cumprod[" + t + "] = " + a + " is not in (0, 1]");
            }
            if (t > 0 && a > alphasCumprod[t - 1]) {
                throw new IllegalArgumentException("alphas_cumprod must not increase: [" + (t - 1) + "] = "
                        + alphasCumprod[t - 1] + ", [" + t + "] = " + a);
            }
            sigmas[t] = (float) Math.sqrt((1f - a) / a);
            logSigmas[t] = (float) Math.log(sigmas[t]);
        }
    }

    /**
     * CompVis make_beta_schedule("linear"): betas = linspace(sqrt(start), sqrt(end), n)^2 and alphas_cumprod =
     * cumprod(1 - betas), both in float64, stored as float32.
     */
    public static NoiseSchedule linear(int timesteps, double betaStart, double betaEnd) {
        if (timesteps < 2) {
            throw new IllegalArgumentException("timesteps must be >= 2, got " + timesteps);
        }
        double lo = Math.sqrt(betaStart);
        double step = (Math.sqrt(betaEnd) - lo) / (timesteps - 1);
        float[] betas = new float[timesteps];
        float[] ac = new float[timesteps];
        double prod = 1.0;
        for (int i = 0; i < timesteps; i++) {
            // numpy's linspace: start + i * step, with the end point set exactly
            double r = i == timesteps - 1 ? Math.sqrt(betaEnd) : lo + i * step;
            double beta = r * r;
            prod *= 1.0 - beta;
            betas[i] = (float) beta;
            ac[i] = (float) prod;
        }
        return new NoiseSchedule(ac, betas);
    }

    /** The schedule of Stable Diffusion 1.x / 2.x: linear, 1000 steps, 0.00085 .. 0.012. */
    public static NoiseSchedule stableDiffusion() {
        return linear(1000, 0.00085, 0.012);
    }

    /** From a checkpoint's {@code alphas_cumprod} buffer (float32, one value per DDPM timestep). */
    public static NoiseSchedule fromAlphasCumprod(float[] alphasCumprod) {
        float[] ac = alphasCumprod.clone();
        float[] betas = new float[ac.length];
        for (int t = 0; t < ac.length; t++) {
            double prev = t == 0 ? 1.0 : ac[t - 1];
            betas[t] = (float) (1.0 - ac[t] / prev);
        }
        return new NoiseSchedule(ac, betas);
    }

    /** This schedule with the Align Your Steps table of a model family (SD 1.5's unless told). */
    public NoiseSchedule withAlignYourSteps(AlignYourSteps table) {
        return new NoiseSchedule(alphasCumprod, betas, table);
    }

    public AlignYourSteps alignYourSteps() {
        return alignYourSteps;
    }

    /** Number of DDPM timesteps (1000 for Stable Diffusion). */
    public int size() {
        return alphasCumprod.length;
    }

    public float alphaCumprod(int t) {
        return alphasCumprod[t];
    }

    public float[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    public float[] betas() {
        return betas.clone();
    }

    /** The k-diffusion noise level of integer timestep t. */
    public float sigma(int t) {
        return sigmas[t];
    }

    /** The sigma table, ascending in t. */
    public float[] sigmas() {
        return sigmas.clone();
    }

    public float sigmaMin() {
        return sigmas[0];
    }

    public float sigmaMax() {
        return sigmas[sigmas.length - 1];
    }

    /**
     * The fractional timestep of a noise level: linear interpolation of log sigma between the two
     * neighbouring table entries, clamped to [0, size - 1] (k-diffusion DiscreteSchedule.sigma_to_t, not
     * quantized).
     */
    public float timestepOf(float sigma) {
        float l = (float) Math.log(sigma);
        int atOrBelow = 0;
        for (float ls : logSigmas) {
            if (ls <= l) {
                atOrBelow++;
            }
        }
        int low = Math.max(0, Math.min(atOrBelow - 1, logSigmas.length - 2));
        float w = (logSigmas[low] - l) / (logSigmas[low] - logSigmas[low + 1]);
        w = Math.max(0f, Math.min(1f, w));
        return (1f - w) * low + w * (low + 1);
    }

    /** The noise level of a fractional timestep, interpolating log sigma (DiscreteSchedule.t_to_sigma). */
    public float sigmaAt(float t) {
        if (!(t >= 0f && t <= size() - 1)) {
            throw new IllegalArgumentException("timestep " + t + " outside [0, " + (size() - 1) + "]");
        }
        int low = (int) Math.floor(t);
        int high = (int) Math.ceil(t);
        float w = t - low;
        float logSigma = (1f - w) * logSigmas[low] + w * logSigmas[high];
        return (float) Math.exp(logSigma);
    }

    @Override
    public String toString() {
        return "NoiseSchedule[" + size() + " steps, alphas_cumprod " + alphasCumprod[0] + " .. "
                + alphasCumprod[size() - 1] + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NoiseSchedule s && Arrays.equals(alphasCumprod, s.alphasCumprod)
                && alignYourSteps == s.alignYourSteps;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(alphasCumprod);
    }
}
