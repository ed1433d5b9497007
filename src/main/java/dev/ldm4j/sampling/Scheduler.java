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
    EXPONENTIAL("exponential", "Exponential");

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

    /** steps noise levels, descending, then 0 (steps + 1 values). */
    public Sigmas sigmas(NoiseSchedule schedule, int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        float[] out = new float[steps + 1];
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
        }
        out[steps] = 0f;
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
