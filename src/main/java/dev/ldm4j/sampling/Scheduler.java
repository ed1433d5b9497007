package dev.ldm4j.sampling;

import dev.ldm4j.io.BadRequestException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How the noise levels of a run are spaced; names as the stable-diffusion.cpp CLI spells them. */
public enum Scheduler {
    /**
     * For the k-diffusion samplers: CompVisDenoiser.get_sigmas, timesteps linspace(size - 1, 0, steps) mapped
     * through the log-sigma interpolation. For ddim / plms / ddpm: the uniform DDIM timesteps.
     */
    DISCRETE("discrete", "Uniform"),
    /** Karras et al. (2022), rho = 7, between the table's smallest and largest sigma. */
    KARRAS("karras", "Karras"),
    /** Evenly spaced in log sigma between the table's largest and smallest sigma. */
    EXPONENTIAL("exponential", "Exponential"),
    /**
     * Timesteps evenly spaced from t(sigma_max) to t(sigma_min) over steps + 1 points, the last left out (sgm's
     * discretization: the one SDXL's reference uses); AUTOMATIC1111's sgm_uniform.
     */
    SGM_UNIFORM("sgm_uniform", "SGM Uniform"),
    /** Every (size / steps)-th sigma of the table from the top (ComfyUI's and AUTOMATIC1111's simple). */
    SIMPLE("simple", "Simple"),
    /**
     * KL-optimal (Karras et al.'s follow-up, "Align Your Steps" baseline): tan of arctan(sigma) interpolated
     * linearly from sigma_max to sigma_min over steps + 1 points. It ends at sigma_min, not 0, as
     * AUTOMATIC1111's does: the last step leaves the smallest noise level of the table in the latent.
     */
    KL_OPTIMAL("kl_optimal", "KL Optimal"),
    /**
     * Every (size / steps)-th sigma of the table from index 1 up, reversed (AUTOMATIC1111's and ComfyUI's
     * ddim_uniform): the DDIM paper's spacing. It may give more steps than asked when steps does not divide the
     * table (30 steps give 31).
     */
    DDIM_UNIFORM("ddim_uniform", "DDIM"),
    /**
     * Timesteps at the quantiles 1 - i / steps of Beta(0.6, 0.6), rounded to the table, repeats dropped ("Beta
     * Sampling is All You Need", Lee et al. 2024; ComfyUI's and stable-diffusion.cpp's beta): dense at both
     * ends. It may give fewer steps than asked.
     */
    BETA("beta", "Beta"),
    /** {@link AlignYourSteps}: the table of the model's family (SDXL's, else SD 1.5's), as AUTOMATIC1111 picks. */
    ALIGN_YOUR_STEPS("align_your_steps", "Align Your Steps"),
    /**
     * The timesteps of LCM's 50-step distillation schedule (999, 979, ..., 19) at the indices floor(i * 50 /
     * steps), as diffusers' LCMScheduler and stable-diffusion.cpp take them; at most 50 steps.
     */
    LCM("lcm", "LCM");

    private static final double RHO = 7.0;
    private final String cliName;
    private final String a1111Name;

    Scheduler(String cliName, String a1111Name) {
        this.cliName = cliName;
        this.a1111Name = a1111Name;
    }

    public String cliName() {
        return cliName;
    }

    /** The name AUTOMATIC1111 writes as "Schedule type": Uniform, Karras, Exponential. */
    public String a1111Name() {
        return a1111Name;
    }

    /**
     * The scheduler a name names: stable-diffusion.cpp's (discrete, karras) or AUTOMATIC1111's (Uniform, Karras;
     * "Automatic" is the sampler's own, discrete), case ignored.
     */
    public static Scheduler byName(String name) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        if (key.equals("automatic")) {
            return DISCRETE;
        }
        if (key.equals("ays")) {
            return ALIGN_YOUR_STEPS;
        }
        for (Scheduler s : values()) {
            if (s.cliName.equals(key) || s.a1111Name.toLowerCase(Locale.ROOT).equals(key)) {
                return s;
            }
        }
        throw new BadRequestException("unknown scheduler '" + name + "'; valid: " + names());
    }

    public static String names() {
        return Arrays.stream(values()).map(Scheduler::cliName).collect(Collectors.joining(", "));
    }

    /**
     * steps noise levels, descending, then 0 (steps + 1 values; ddim_uniform and beta may give a few more or
     * fewer, and kl_optimal ends at the smallest level instead of 0).
     */
    public Sigmas sigmas(NoiseSchedule schedule, int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        float[] out = new float[steps + 1];
        if (this == KL_OPTIMAL) {
            // float32 as the reference computes it: arctan of the ends, then tan of the blend
            float aMin = (float) Math.atan(schedule.sigmaMin());
            float aMax = (float) Math.atan(schedule.sigmaMax());
            for (int i = 0; i <= steps; i++) {
                float f = (float) i / steps;
                out[i] = (float) Math.tan(f * aMin + (1f - f) * aMax);
            }
            return new Sigmas(out);
        }
        switch (this) {
            case DISCRETE -> {
                float[] t = linspace(schedule.size() - 1, 0, steps);
                for (int i = 0; i < steps; i++) {
                    out[i] = schedule.sigmaAt(t[i]);
                }
            }
            case KARRAS -> {
                double minInv = Math.pow(schedule.sigmaMin(), 1 / RHO);
                double maxInv = Math.pow(schedule.sigmaMax(), 1 / RHO);
                float[] ramp = linspace(0, 1, steps);
                for (int i = 0; i < steps; i++) {
                    out[i] = (float) Math.pow(maxInv + ramp[i] * (minInv - maxInv), RHO);
                }
            }
            case EXPONENTIAL -> {
                float[] logs = linspace((float) Math.log(schedule.sigmaMax()), (float) Math.log(schedule.sigmaMin()), steps);
                for (int i = 0; i < steps; i++) {
                    out[i] = (float) Math.exp(logs[i]);
                }
            }
            case SGM_UNIFORM -> {
                float[] t = linspace(schedule.timestepOf(schedule.sigmaMax()), schedule.timestepOf(schedule.sigmaMin()),
                        steps + 1);
                for (int i = 0; i < steps; i++) {
                    out[i] = schedule.sigmaAt(t[i]);
                }
            }
            case SIMPLE -> {
                float[] table = schedule.sigmas();
                double stride = (double) table.length / steps;
                for (int i = 0; i < steps; i++) {
                    out[i] = table[table.length - 1 - (int) (i * stride)];
                }
            }
            case DDIM_UNIFORM -> {
                return ddimUniform(schedule.sigmas(), steps);
            }
            case BETA -> {
                return beta(schedule.sigmas(), steps);
            }
            case ALIGN_YOUR_STEPS -> {
                return new Sigmas(schedule.alignYourSteps().sigmas(steps));
            }
            case LCM -> {
                int original = 50;
                if (steps > original) {
                    throw new BadRequestException("the lcm scheduler has at most " + original
                            + " steps (LCM's distillation schedule), got " + steps);
                }
                int stride = schedule.size() / original;
                for (int i = 0; i < steps; i++) {
                    out[i] = schedule.sigma((original - i * original / steps) * stride - 1);
                }
            }
            default -> throw new IllegalStateException(name());
        }
        out[steps] = 0f;
        return new Sigmas(out);
    }

    private static Sigmas ddimUniform(float[] table, int steps) {
        int stride = Math.max(table.length / steps, 1);
        java.util.List<Float> picked = new java.util.ArrayList<>();
        for (int x = 1; x < table.length; x += stride) {
            picked.add(table[x]);
        }
        float[] out = new float[picked.size() + 1];
        for (int i = 0; i < picked.size(); i++) {
            out[i] = picked.get(picked.size() - 1 - i);
        }
        return new Sigmas(out);
    }

    private static Sigmas beta(float[] table, int steps) {
        double alpha = 0.6;
        double beta = 0.6;
        int last = table.length - 1;
        java.util.List<Float> picked = new java.util.ArrayList<>();
        double previous = -1;
        for (int i = 0; i < steps; i++) {
            double t = Math.rint(BetaDistribution.ppf(1.0 - (double) i / steps, alpha, beta) * last);
            if (t != previous) {
                picked.add(table[(int) t]);
            }
            previous = t;
        }
        float[] out = new float[picked.size() + 1];
        for (int i = 0; i < picked.size(); i++) {
            out[i] = picked.get(i);
        }
        return new Sigmas(out);
    }

    /** torch.linspace in float32: the first half counts up from start, the second half down from end. */
    static float[] linspace(float start, float end, int n) {
        float[] out = new float[n];
        if (n == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (n - 1);
        int half = n / 2;
        for (int i = 0; i < n; i++) {
            out[i] = i < half ? start + step * i : end - step * (n - i - 1);
        }
        return out;
    }
}
